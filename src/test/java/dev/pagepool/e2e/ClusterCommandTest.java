package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.protocol.PoolSpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code pagepool cluster} against two real donors in a Hazelcast cluster, one of them holding pages: every donor is
 * listed once with its endpoint and the figures it published or answered to STATS.
 */
class ClusterCommandTest {
    private static final long BUDGET = 64L << 20;
    private static final int PAGES = 300;

    private static DonorCluster cluster;
    private static PagePoolClient client;

    @BeforeAll
    static void start() throws Exception {
        cluster = DonorCluster.start("view", 2, "64m");
        // Pages on the first donor only: one client of it alone, one copy.
        client = PagePoolClient.connect(ClientConfig.of(List.of(cluster.donor(0).dataAddress()), ""));
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        Random random = new Random(7);
        byte[] page = new byte[4096];
        for (int i = 0; i < PAGES; i++) {
            random.nextBytes(page);
            assertEquals(PageStatus.OK, client.put(pool, 1, i, page));
        }
        // Loads are published every second.
        Thread.sleep(2500);
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void jsonListsEveryDonorWithItsBudgetUseAndCounters() throws Exception {
        Tool run = Tool.run(120, command("--json").toArray(new String[0])).ok();
        JsonNode report = new ObjectMapper().readTree(lastJsonLine(run.output()));
        assertEquals(cluster.name, report.get("cluster").asText());
        JsonNode donors = report.get("donors");
        assertEquals(2, donors.size(), run.output());
        for (int i = 0; i < 2; i++) {
            JsonNode d = donors.get(i);
            assertEquals("view-" + i, d.get("name").asText(), "ordered by name");
            assertEquals(cluster.donor(i).dataEndpoint(), d.get("data_endpoint").asText());
            assertEquals(cluster.donor(i).httpPort(), d.get("http_port").asInt());
            assertEquals(BUDGET, d.get("operator_budget_bytes").asLong());
            long effective = d.get("effective_budget_bytes").asLong();
            assertTrue(effective > 0 && effective <= BUDGET, "effective budget " + effective);
            assertEquals("NORMAL", d.get("watermark").asText());
            assertEquals(0, d.get("watermark_level").asInt());
            assertEquals(0, d.get("puts_rejected").asLong());
            assertEquals(0, d.get("handed_back").asLong());
            assertTrue(d.get("connections").asLong() >= 1, "at least the command's own STATS connection: " + d);
            assertFalse(d.has("stats_error"), d.toString());
        }
        JsonNode holder = donors.get(0);
        assertEquals(PAGES, holder.get("pages").asLong());
        assertTrue(holder.get("used_bytes").asLong() >= (long) PAGES * 4096, holder.toString());
        double ratio = holder.get("compression_ratio").asDouble();
        assertTrue(ratio > 0.9 && ratio < 1.1, "random pages do not compress: " + ratio);
        assertEquals(0, donors.get(1).get("pages").asLong());
        assertTrue(donors.get(0).get("connections").asLong() > donors.get(1).get("connections").asLong(),
            "the test's client is connected to the first donor only");
    }

    @Test
    void theTableShowsOneLinePerDonorUnderItsHeader() throws Exception {
        Tool run = Tool.run(120, command().toArray(new String[0])).ok();
        List<String> lines = run.output().lines().toList();
        int header = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("NAME ")) {
                header = i;
            }
        }
        assertTrue(header > 0, run.output());
        assertTrue(lines.get(header).matches("NAME +DATA +BUDGET +EFFECTIVE +USED +PAGES +RATIO +WATERMARK +CONNS "
            + "+REJECTED +HANDED-BACK"), lines.get(header));
        assertEquals("cluster " + cluster.name + ": 2 donors", lines.get(header - 1));
        assertTrue(lines.get(header + 1).startsWith("view-0 ") && lines.get(header + 1).contains(cluster.donor(0).dataEndpoint())
            && lines.get(header + 1).contains("64.0 MiB") && lines.get(header + 1).contains(" 300 "), lines.get(header + 1));
        assertTrue(lines.get(header + 2).startsWith("view-1 ") && lines.get(header + 2).contains("NORMAL"),
            lines.get(header + 2));
    }

    @Test
    void watchPrintsAFreshReportEachInterval() throws Exception {
        List<String> cmd = command("--json", "--watch", "--interval", "0.5");
        Process watch = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(watch.getInputStream()))) {
            List<JsonNode> reports = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            String line;
            while (reports.size() < 3 && System.nanoTime() < deadline && (line = out.readLine()) != null) {
                if (line.startsWith("{")) {
                    reports.add(new ObjectMapper().readTree(line));
                }
            }
            assertEquals(3, reports.size(), "three reports, one per refresh");
            for (JsonNode r : reports) {
                assertEquals(2, r.get("donors").size());
            }
            assertTrue(watch.isAlive(), "--watch runs until interrupted");
        } finally {
            watch.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static List<String> command(String... extra) {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar", jar.toString(), "cluster", "--members", cluster.members, "--cluster-name", cluster.name));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    private static String lastJsonLine(String output) {
        List<String> json = output.lines().filter(l -> l.startsWith("{")).toList();
        assertFalse(json.isEmpty(), output);
        return json.get(json.size() - 1);
    }
}
