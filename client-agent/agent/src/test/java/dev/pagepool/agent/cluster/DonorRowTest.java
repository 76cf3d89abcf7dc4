package dev.pagepool.agent.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorLoad;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** How {@code pagepool cluster} joins what a donor published with its STATS, and prints it. */
class DonorRowTest {
    private static final DonorInfo DONOR = new DonorInfo("blade-07", UUID.randomUUID(), "10.0.0.7", 7410, 8080,
        0, 0, 0, 0, null);
    private static final Map<String, Long> STATS = Map.of(
        "operator_capacity_bytes", 8L << 30, "capacity_bytes", 6L << 30, "used_bytes", 1L << 30, "pages", 524_288L,
        "stored_bytes", 1L << 30, "watermark_level", 1L, "connections", 6L, "puts_rejected", 12L, "handed_back", 34L);

    @Test
    void thePublishedLoadWinsForWhatItCarriesAndStatsFillsTheRest() {
        DonorLoad load = new DonorLoad(5L << 30, 3L << 30, 2, 700_000, 1_000);
        DonorRow row = DonorRow.of(DONOR, load, STATS, null, 1_500);
        assertEquals(5L << 30, row.effectiveBudgetBytes());
        assertEquals(3L << 30, row.usedBytes());
        assertEquals(700_000, row.pages());
        assertEquals("LOW", row.watermark());
        assertEquals(500, row.loadAgeMillis());
        assertEquals(8L << 30, row.operatorBudgetBytes(), "the operator's budget is not published");
        assertEquals(2.0, row.compressionRatio(), 1e-9, "524288 pages of 4 KiB in 1 GiB stored");
        assertEquals(6, row.connections());
        assertEquals(12, row.putsRejected());
        assertEquals(34, row.handedBack());
        assertEquals("10.0.0.7:7410", row.dataEndpoint());
    }

    @Test
    void withoutAPublishedLoadStatsSaysEverything() {
        DonorRow row = DonorRow.of(DONOR, DonorLoad.UNKNOWN, STATS, null, 1_500);
        assertEquals(6L << 30, row.effectiveBudgetBytes());
        assertEquals(1L << 30, row.usedBytes());
        assertEquals(524_288, row.pages());
        assertEquals("HIGH", row.watermark());
        assertEquals(-1, row.loadAgeMillis());
    }

    @Test
    void aDonorThatDidNotAnswerShowsDashesAndWhy() throws Exception {
        DonorRow row = DonorRow.of(DONOR, new DonorLoad(5L << 30, 3L << 30, 0, 10, 1_000), Map.of(), "timeout", 1_000);
        ClusterReport report = new ClusterReport("pagepool", List.of(row));
        String table = report.table();
        assertTrue(table.startsWith("cluster pagepool: 1 donor\n"), table);
        assertTrue(table.contains("blade-07  10.0.0.7:7410"), table);
        assertTrue(table.contains("blade-07: no STATS (timeout)"), table);
        String line = table.lines().filter(l -> l.startsWith("blade-07 ")).findFirst().orElseThrow();
        assertTrue(line.matches("blade-07 +10\\.0\\.0\\.7:7410 +- +5\\.0 GiB +3\\.0 GiB +10 +- +NORMAL +- +- +-"), line);
        JsonNode json = new ObjectMapper().readTree(report.json());
        JsonNode d = json.get("donors").get(0);
        assertEquals(-1, d.get("operator_budget_bytes").asLong());
        assertEquals(5L << 30, d.get("effective_budget_bytes").asLong());
        assertEquals("timeout", d.get("stats_error").asText());
    }
}
