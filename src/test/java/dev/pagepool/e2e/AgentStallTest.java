package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent keeps every page through what an operator meets every week: a stall of every donor (a switch
 * reboot, a network blip, a GC pause of them all), and donors that join after the agent started.
 */
class AgentStallTest {
    private static final int MIB = 1 << 20;

    private static byte[] random(int bytes, long seed) {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        return data;
    }

    /** Every donor frozen together for {@code millis}, then thawed, whatever happens meanwhile. */
    private static void freezeAll(DonorCluster cluster, int donors, long millis) throws InterruptedException {
        for (int i = 0; i < donors; i++) {
            cluster.donor(i).signal("STOP");
        }
        try {
            Thread.sleep(millis);
        } finally {
            for (int i = 0; i < donors; i++) {
                cluster.donor(i).signal("CONT");
            }
        }
    }

    /**
     * Runs {@code command} with every donor frozen for 5 s shortly after it starts; it must then finish with no
     * error. Returns whether it was still running when the donors froze.
     */
    private static boolean throughAFreeze(DonorCluster cluster, String... command) throws Exception {
        try (Tool.Running copy = Tool.start(command)) {
            Thread.sleep(100);
            boolean running = copy.isAlive();
            freezeAll(cluster, 3, 5000);
            copy.finish(120).ok();
            return running;
        }
    }

    @Test
    @Timeout(300)
    void everyDonorFrozenForFiveSecondsDuringNbdcopyCostsNoPageAndNoRequestFails(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-stall", 3, "256m");
             AgentProcess agent = AgentProcess.start(List.of("--nodes", cluster.nodesArg(), "--size", "256m",
                 "--disk", dir.resolve("swap.img").toString(), "--replicas", "2"))) {
            byte[] first = random(96 * MIB, 21);
            Path in = dir.resolve("in.bin");
            Files.write(in, first);
            Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();

            // A reader that runs into the stall: the donors freeze while nbdcopy reads the export.
            Path out = dir.resolve("out.bin");
            boolean readerRunning = throughAFreeze(cluster, "nbdcopy", agent.uri(), out.toString());
            byte[] back = Files.readAllBytes(out);
            assertArrayEquals(first, java.util.Arrays.copyOf(back, first.length), "the data reads back identical");

            // A writer that runs into the stall: its writes wait for a copy to answer, then land.
            byte[] second = random(96 * MIB, 22);
            Files.write(in, second);
            boolean writerRunning = throughAFreeze(cluster, "nbdcopy", in.toString(), agent.uri());
            Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
            back = Files.readAllBytes(out);
            assertArrayEquals(second, java.util.Arrays.copyOf(back, second.length), "the rewritten data reads back identical");
            assertTrue(readerRunning || writerRunning, "at least one copy was under way when the donors froze");

            PrometheusText m = PrometheusText.scrape("http://127.0.0.1:" + agent.httpPort + "/q/metrics");
            assertEquals(0, m.value("pagepool_agent_extents_lost_total", Map.of()), agent.output());
            assertEquals(0, m.value("pagepool_agent_eio_replies_total", Map.of("cause", "cluster")), agent.output());
            assertEquals(0, m.value("pagepool_agent_eio_replies_total", Map.of("cause", "lost")), agent.output());
            assertTrue(agent.output().contains("suspect"), "the agent saw the donors go silent:\n" + agent.output());
            assertFalse(agent.output().contains("lost their last copy"), agent.output());
        }
    }

    @Test
    @Timeout(300)
    void anAgentStartedOnOneDonorMakesItsSecondCopiesAsDonorsJoinAndLosesNothingWhenTheFirstDies(@TempDir Path dir)
        throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-join", 3, 1, "256m");
             AgentProcess agent = AgentProcess.start(List.of("--members", cluster.memberList().get(0), "--cluster-name",
                 cluster.name, "--size", "128m", "--disk", dir.resolve("swap.img").toString()))) {
            assertTrue(agent.output().contains("2 copies of each page"), agent.output());
            assertTrue(agent.output().contains("under-replicated"), agent.output());
            byte[] data = random(64 * MIB, 23);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
            String metrics = "http://127.0.0.1:" + agent.httpPort + "/q/metrics";
            assertTrue(PrometheusText.scrape(metrics).value("pagepool_agent_extents_under_replicated", Map.of()) > 0,
                "one donor cannot hold two copies");

            cluster.startDonor(1);
            cluster.startDonor(2);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (PrometheusText.scrape(metrics).value("pagepool_agent_extents_under_replicated", Map.of()) > 0
                    || PrometheusText.scrape(metrics).value("pagepool_agent_donors", Map.of("state", "up")) < 3) {
                assertTrue(System.nanoTime() < deadline, "the second copies are made as donors join:\n" + agent.output());
                Thread.sleep(200);
            }
            cluster.donor(0).kill();
            Path out = dir.resolve("out.bin");
            Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
            byte[] back = Files.readAllBytes(out);
            assertArrayEquals(data, java.util.Arrays.copyOf(back, data.length), "nothing was lost with the first donor");
            PrometheusText m = PrometheusText.scrape(metrics);
            assertEquals(0, m.value("pagepool_agent_extents_lost_total", Map.of()), agent.output());
        }
    }
}
