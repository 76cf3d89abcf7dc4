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
import org.junit.jupiter.api.Timeout;

/** {@code pagepool bench --verify --json} as an operator runs it: a separate process against donor processes. */
class BenchCommandTest {
    private static final long PAGES = 20000;

    private record Run(String output, JsonNode json) {
    }

    private static Run bench(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--pages", Long.toString(PAGES), "--batch", "64", "--threads", "2"));
        all.addAll(List.of(args));
        return finish(start(all));
    }

    /** Starts {@code pagepool bench --compressible 0.5 --verify --json ARGS} as a process. */
    private static Process start(List<String> args) throws Exception {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar", jar.toString(), "bench", "--compressible", "0.5", "--verify", "--json"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static Run finish(Process bench) throws Exception {
        try {
            String out = new String(bench.getInputStream().readAllBytes());
            assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "bench ends by itself");
            assertEquals(0, bench.exitValue(), out);
            List<String> lines = out.lines().toList();
            return new Run(out, new ObjectMapper().readTree(lines.get(lines.size() - 1)));
        } finally {
            bench.destroyForcibly();
        }
    }

    private static void assertEveryPageVerified(JsonNode json) {
        assertEveryPageVerified(json, PAGES);
    }

    private static void assertEveryPageVerified(JsonNode json, long pages) {
        for (String key : new String[] {"ops_per_sec_put", "ops_per_sec_get", "p50_us_put", "p99_us_put",
            "p50_us_get", "p99_us_get", "pages", "rejected", "verified", "mismatches", "missing"}) {
            assertTrue(json.has(key), "JSON lacks " + key + ": " + json);
        }
        assertEquals(pages, json.get("pages").asLong());
        assertEquals(0, json.get("mismatches").asLong(), json.toString());
        assertEquals(0, json.get("missing").asLong(), json.toString());
        // Every run has room for all its pages (a killed donor's pages are placed again on the survivors): a
        // rejected put is a put the client gave up on, not the donors' right to refuse.
        assertEquals(0, json.get("rejected").asLong(), json.toString());
        assertEquals(pages, json.get("verified").asLong(), json.toString());
        assertTrue(json.get("ops_per_sec_put").asLong() > 0 && json.get("ops_per_sec_get").asLong() > 0);
    }

    @Test
    void benchVerifiesEveryPersistentPageAndReportsTheContractKeys() throws Exception {
        try (DonorProcess donor = Donors.start("bench", "bench-token", "128m")) {
            assertEveryPageVerified(bench("--nodes", donor.dataEndpoint(), "--token", "bench-token").json());
        }
    }

    @Test
    void benchWarmsUpInBoundedRoundsAndSaysWhetherTheCompilersWereDone() throws Exception {
        try (DonorProcess donor = Donors.start("bench-warm", "bench-token", "128m")) {
            Run one = bench("--nodes", donor.dataEndpoint(), "--token", "bench-token", "--warmup", "4000",
                "--warmup-rounds", "1");
            assertEveryPageVerified(one.json());
            assertEquals(1, one.json().get("warmup_rounds").asInt(), one.output());
            assertTrue(one.output().contains("warm-up: 1 round(s) of 4,000 pages"), one.output());
            assertTrue(one.json().get("jit_ms_measured").asLong() >= 0, one.output());

            Run many = bench("--nodes", donor.dataEndpoint(), "--token", "bench-token", "--warmup", "4000",
                "--warmup-rounds", "6");
            assertEveryPageVerified(many.json());
            int rounds = many.json().get("warmup_rounds").asInt();
            boolean settled = many.json().get("warmup_settled").asInt() == 1;
            assertTrue(rounds >= 1 && rounds <= 6, many.output());
            // Rounds stop at the first settled one, and only an unsettled warm-up uses them all.
            assertTrue(settled || rounds == 6, many.output());
            assertTrue(many.output().contains(settled ? "settled" : "NOT settled"), many.output());
            // The warm-up's pools are gone: the donor holds no page once the measured pool is destroyed too.
            JsonNode stats = new ObjectMapper().readTree(
                Donors.http(donor, "GET", "/admin/stats", "bench-token", null).body());
            assertEquals(0, stats.get("pages").asLong(), stats.toString());
        }
    }

    @Test
    void benchRefusesAnImpossibleWarmUpWithAClearError() throws Exception {
        Process bench = start(List.of("--nodes", "127.0.0.1:1", "--warmup", "1000", "--warmup-rounds", "0"));
        String out = new String(bench.getInputStream().readAllBytes());
        assertTrue(bench.waitFor(60, TimeUnit.SECONDS), "bench ends by itself");
        assertTrue(bench.exitValue() != 0, out);
        assertTrue(out.contains("--warmup-rounds"), out);
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

    @Test
    @Timeout(240)
    void benchThroughHazelcastLosesNothingWhenADonorIsKilledMidRun() throws Exception {
        long pages = 40000;
        try (DonorCluster cluster = DonorCluster.start("bench-kill", 3, "128m")) {
            // Small vectors from one thread: the run lasts long enough for the kill to land inside it.
            Process bench = start(List.of("--members", cluster.members, "--cluster-name", cluster.name,
                "--pages", Long.toString(pages), "--batch", "4", "--threads", "1"));
            DonorProcess victim = cluster.donor(1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (storedPages(victim) < 2000 && System.nanoTime() < deadline && bench.isAlive()) {
                Thread.sleep(50);
            }
            assertTrue(bench.isAlive(), "the bench was still running when the donor was killed");
            victim.kill();
            Run run = finish(bench);
            assertEveryPageVerified(run.json(), pages);
            assertEquals(2, run.json().get("replicas").asInt(), run.output());
            assertTrue(run.json().get("donors_down").asLong() >= 1, "the bench saw the donor go: " + run.json());
            assertEquals(0, run.json().get("pages_lost").asLong());
        }
    }

    private static long storedPages(DonorProcess donor) {
        try {
            JsonNode stats = new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", "", null).body());
            return stats.get("pages").asLong();
        } catch (Exception e) {
            return 0;
        }
    }
}
