package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code pagepool bench --verify --json} as an operator runs it: a separate process against donor processes. */
class BenchCommandTest {
    private static final long PAGES = 20000;

    private record Run(String output, JsonNode json) {
    }

    private static Run bench(String... args) throws Exception {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("client-agent/target/pagepool-client-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar", jar.toString(), "bench", "--pages", Long.toString(PAGES), "--batch", "64", "--threads", "2",
            "--compressible", "0.5", "--verify", "--json"));
        cmd.addAll(List.of(args));
        Process bench = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(bench.getInputStream().readAllBytes());
        assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "bench ends by itself");
        assertEquals(0, bench.exitValue(), out);
        List<String> lines = out.lines().toList();
        return new Run(out, new ObjectMapper().readTree(lines.get(lines.size() - 1)));
    }

    private static void assertEveryPageVerified(JsonNode json) {
        for (String key : new String[] {"ops_per_sec_put", "ops_per_sec_get", "p50_us_put", "p99_us_put",
            "p50_us_get", "p99_us_get", "pages", "rejected", "verified", "mismatches", "missing"}) {
            assertTrue(json.has(key), "JSON lacks " + key + ": " + json);
        }
        assertEquals(PAGES, json.get("pages").asLong());
        assertEquals(0, json.get("mismatches").asLong());
        assertEquals(0, json.get("missing").asLong());
        assertEquals(PAGES, json.get("verified").asLong() + json.get("rejected").asLong());
        assertTrue(json.get("ops_per_sec_put").asLong() > 0 && json.get("ops_per_sec_get").asLong() > 0);
    }

    @Test
    void benchVerifiesEveryPersistentPageAndReportsTheContractKeys() throws Exception {
        try (DonorProcess donor = Donors.start("bench", "bench-token", "128m")) {
            assertEveryPageVerified(bench("--nodes", donor.dataEndpoint(), "--token", "bench-token").json());
        }
    }

    private static DonorSettings member(String name, String members, int hazelcastPort, String cluster) {
        return DonorSettings.defaults(name).withCapacity("64m").withCluster(members, hazelcastPort)
            .with("pagepool.cluster.name", cluster);
    }

    @Test
    void benchFindsTheDonorsThroughHazelcastMembership() throws Exception {
        int hz1 = DonorProcess.freePort();
        int hz2 = DonorProcess.freePort();
        String members = "127.0.0.1:" + hz1 + ",127.0.0.1:" + hz2;
        String cluster = "bench-e2e-" + ProcessHandle.current().pid();
        try (DonorProcess a = Donors.start(member("member-a", members, hz1, cluster));
             DonorProcess b = Donors.start(member("member-b", members, hz2, cluster))) {
            Run run = bench("--members", "127.0.0.1:" + hz1, "--cluster-name", cluster);
            assertTrue(run.output().contains("on 2 donor(s)"), run.output());
            assertEveryPageVerified(run.json());
        }
    }
}
