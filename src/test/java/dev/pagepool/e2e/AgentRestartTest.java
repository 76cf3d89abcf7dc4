package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.launch.DonorProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's own death or upgrade loses nothing: an agent started again on the state its predecessor left
 * resumes the same export, and a state that is not the export's is refused rather than emptied.
 */
class AgentRestartTest {
    private static final int MIB = 1 << 20;

    private static List<String> args(DonorCluster cluster, Path dir, String size) {
        String nodes = cluster.nodesArg();
        return new ArrayList<>(List.of("--nodes", nodes, "--size", size, "--disk", dir.resolve("swap.img").toString(),
            "--state", dir.resolve("state").toString()));
    }

    private static byte[] writeRandom(AgentProcess agent, Path dir, int bytes, long seed) throws Exception {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        Path in = dir.resolve("in-" + seed + ".bin");
        Files.write(in, data);
        Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
        return data;
    }

    private static byte[] readAll(AgentProcess agent, Path dir) throws Exception {
        Path out = dir.resolve("out.bin");
        Files.deleteIfExists(out);
        Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
        return Files.readAllBytes(out);
    }

    @Test
    @Timeout(240)
    void anAgentKilledAndStartedAgainServesTheSameExportWithEveryPage(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-restart", 3, "192m")) {
            AgentProcess first = AgentProcess.start(args(cluster, dir, "256m"));
            byte[] data;
            try {
                data = writeRandom(first, dir, 96 * MIB, 31);
                first.kill();
            } finally {
                first.close();
            }
            try (AgentProcess second = first.again()) {
                assertTrue(second.output().contains("resumed the export"), second.output());
                byte[] back = readAll(second, dir);
                assertArrayEquals(data, Arrays.copyOf(back, data.length), "every page written before the kill");
                assertArrayEquals(new byte[back.length - data.length], Arrays.copyOfRange(back, data.length, back.length),
                    "never-written blocks still read as zeros");
                // It goes on as the same export: a rewrite lands, and a third agent sees it too.
                byte[] again = writeRandom(second, dir, 16 * MIB, 32);
                second.kill();
                try (AgentProcess third = second.again()) {
                    byte[] now = readAll(third, dir);
                    assertArrayEquals(again, Arrays.copyOf(now, again.length));
                    assertArrayEquals(Arrays.copyOfRange(data, again.length, data.length),
                        Arrays.copyOfRange(now, again.length, data.length));
                }
            }
        }
    }

    @Test
    @Timeout(240)
    void sigtermWithAClientConnectedIsAnUpgradeAndWithNoneGivesTheExportUp(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-upgrade", 2, "192m")) {
            AgentProcess first = AgentProcess.start(args(cluster, dir, "128m"));
            byte[] data;
            Process holder;
            try {
                data = writeRandom(first, dir, 32 * MIB, 33);
                // An NBD client that keeps the export open, as a swapping kernel does.
                holder = new ProcessBuilder("qemu-io", "-f", "raw", first.uri(), "-c", "read 0 4k", "-c", "sleep 60000")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("holder.log").toFile()).start();
                // Its read shows in the agent's metrics (qemu-io's own output is buffered until it exits).
                String metrics = "http://127.0.0.1:" + first.httpPort + "/q/metrics";
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (!readSome(PrometheusText.scrape(metrics))) {
                    assertTrue(holder.isAlive() && System.nanoTime() < deadline,
                        "qemu-io opens the export: " + Files.readString(dir.resolve("holder.log")));
                    Thread.sleep(50);
                }
                assertTrue(holder.isAlive(), "and holds it open");
                assertEquals(143, first.stop(), first.output());
            } finally {
                first.close();
            }
            holder.destroyForcibly();
            assertTrue(first.output().contains("are kept for the next agent"), first.output());
            Path state = dir.resolve("state").resolve("pagepool.state");
            assertTrue(Files.exists(state), "the state stays for the next agent");
            try (AgentProcess second = first.again()) {
                assertTrue(second.output().contains("resumed the export"), second.output());
                byte[] back = readAll(second, dir);
                assertArrayEquals(data, Arrays.copyOf(back, data.length), "the upgraded agent serves every page");
                assertEquals(143, second.stop(), second.output());
                assertFalse(second.output().contains("are kept for the next agent"), second.output());
            }
            assertFalse(Files.exists(state), "with no client connected, a stop gives the export up: " + state);
            long pooled = 0;
            for (int i = 0; i < 2; i++) {
                pooled += new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(Donors.http(cluster.donor(i), "GET", "/admin/stats", null, null).body()).get("pages").asLong();
            }
            assertEquals(0, pooled, "and its pool on the donors with it");
        }
    }

    @Test
    @Timeout(180)
    void aStateOfAnotherExportIsRefusedWithAClearMessageAndFreshStartsEmpty(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-refuse", 1, "128m")) {
            AgentProcess first = AgentProcess.start(args(cluster, dir, "64m"));
            try {
                writeRandom(first, dir, 4 * MIB, 34);
                first.kill();
            } finally {
                first.close();
            }
            Path state = dir.resolve("state").resolve("pagepool.state");
            byte[] before = Files.readAllBytes(state);
            List<String> bigger = args(cluster, dir, "128m");
            Tool refused = Tool.run(60, agentCommand(bigger));
            assertNotEquals(0, refused.exitCode(), refused.output());
            assertTrue(refused.output().contains("refusing the agent's state") && refused.output().contains("67108864-byte export"),
                "says what differs: " + refused.output());
            assertTrue(refused.output().contains("--fresh"), "and what to do: " + refused.output());
            assertArrayEquals(before, Files.readAllBytes(state), "a refused state is left as it was");

            Files.write(state, Arrays.copyOf(before, before.length / 2));
            Tool torn = Tool.run(60, agentCommand(args(cluster, dir, "64m")));
            assertNotEquals(0, torn.exitCode(), torn.output());
            assertTrue(torn.output().contains("torn"), torn.output());

            bigger.add("--fresh");
            try (AgentProcess fresh = AgentProcess.start(bigger)) {
                assertFalse(fresh.output().contains("resumed"), fresh.output());
                byte[] back = readAll(fresh, dir);
                assertArrayEquals(new byte[128 * MIB], back, "--fresh starts an empty export");
            }
        }
    }

    private static boolean readSome(PrometheusText m) {
        Map<String, String> reads = Map.of("command", "read");
        return m.has("pagepool_agent_nbd_bytes_total", reads) && m.value("pagepool_agent_nbd_bytes_total", reads) >= 4096;
    }

    /** The agent's command line as AgentProcess would run it, for a start expected to fail. */
    private static String[] agentCommand(List<String> args) {
        List<String> cmd = AgentProcess.command(List.of("--nbd", "127.0.0.1:" + DonorProcess.freePort(),
            "--http", "127.0.0.1:" + DonorProcess.freePort()));
        cmd.addAll(args);
        return cmd.toArray(new String[0]);
    }
}
