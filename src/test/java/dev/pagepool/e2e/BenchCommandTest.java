package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.launch.DonorProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code pagepool bench --verify --json} as an operator runs it: a separate process against a donor process. */
class BenchCommandTest {

    @Test
    void benchVerifiesEveryPersistentPageAndReportsTheContractKeys() throws Exception {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("client-agent/target/pagepool-client-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        try (DonorProcess donor = Donors.start("bench", "bench-token", "128m")) {
            Process bench = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "bench", "--nodes", donor.dataEndpoint(), "--token", "bench-token",
                "--pages", "20000", "--batch", "64", "--threads", "2", "--compressible", "0.5", "--verify", "--json")
                .redirectErrorStream(true).start();
            String out = new String(bench.getInputStream().readAllBytes());
            assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "bench ends by itself");
            assertEquals(0, bench.exitValue(), out);
            List<String> lines = out.lines().toList();
            JsonNode json = new ObjectMapper().readTree(lines.get(lines.size() - 1));
            for (String key : new String[] {"ops_per_sec_put", "ops_per_sec_get", "p50_us_put", "p99_us_put",
                "p50_us_get", "p99_us_get", "pages", "rejected", "verified", "mismatches", "missing"}) {
                assertTrue(json.has(key), "JSON lacks " + key + ": " + json);
            }
            assertEquals(20000, json.get("pages").asLong());
            assertEquals(0, json.get("mismatches").asLong());
            assertEquals(0, json.get("missing").asLong());
            assertEquals(20000, json.get("verified").asLong() + json.get("rejected").asLong());
            assertTrue(json.get("ops_per_sec_put").asLong() > 0 && json.get("ops_per_sec_get").asLong() > 0);
        }
    }
}
