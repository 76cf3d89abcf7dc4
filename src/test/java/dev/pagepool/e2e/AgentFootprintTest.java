package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the agent costs its host when the host's writes outrun the cluster: the agent runs as the launcher sizes it,
 * and a writer that keeps sending while no donor answers must wait in its own socket, not in the agent's memory.
 */
class AgentFootprintTest {
    private static final int MIB = 1 << 20;
    private static final String SIZE = "256m";
    /** The agent's bound: 96 MiB plus 0.2% of the export it serves. */
    private static final long RSS_BOUND_KIB = (96L << 10) + (256L << 20) / 500 / 1024;
    /** How long every donor stays frozen: well inside the agent's stall bound (30 s), so the writes wait. */
    private static final long FROZEN_MILLIS = 12_000;

    @Test
    @Timeout(300)
    void everyDonorFrozenWhileNbdcopyKeepsWritingLargeRequestsTheAgentStaysWithinItsBoundAndLosesNothing(
        @TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-footprint", 2, "256m");
             AgentProcess agent = AgentProcess.startAsLaunched(List.of("--nodes", cluster.nodesArg(), "--size", SIZE,
                 "--disk", dir.resolve("swap.img").toString(), "--replicas", "2"))) {
            byte[] data = new byte[128 * MIB];
            new Random(28).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            long atRest = agent.rssKib();
            assertTrue(atRest <= RSS_BOUND_KIB, "the agent at rest: " + atRest + " KiB, bound " + RSS_BOUND_KIB);

            for (int i = 0; i < 2; i++) {
                cluster.donor(i).signal("STOP");
            }
            long peak;
            boolean writing;
            // The largest requests the export takes (a power of two under its advertised maximum, 3.9 MiB with the
            // default 4 MiB of buffers: a 32 MiB write is refused with EINVAL), 64 of them at once: 128 MiB pushed
            // at an agent that can hold 4.
            try (Tool.Running copy = Tool.start("nbdcopy", "--request-size=2097152", "--requests=64", in.toString(),
                     agent.uri())) {
                try {
                    peak = peakRss(agent, FROZEN_MILLIS);
                    writing = copy.isAlive();
                } finally {
                    for (int i = 0; i < 2; i++) {
                        cluster.donor(i).signal("CONT");
                    }
                }
                copy.finish(180).ok();
            }
            System.out.printf("agent RSS at rest %d KiB, peak while the donors were frozen %d KiB, bound %d KiB%n",
                atRest, peak, RSS_BOUND_KIB);
            assertTrue(writing, "nbdcopy was still waiting on the frozen cluster when the donors woke");
            assertTrue(peak <= RSS_BOUND_KIB, "the agent's RSS while nbdcopy pressed on frozen donors: peak " + peak
                + " KiB, bound " + RSS_BOUND_KIB + " (at rest " + atRest + ")\n" + agent.output());

            Path out = dir.resolve("out.bin");
            Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
            assertArrayEquals(data, Arrays.copyOf(Files.readAllBytes(out), data.length), "every byte reads back");
        }
    }

    private static long peakRss(AgentProcess agent, long millis) throws Exception {
        long peak = 0;
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < end) {
            peak = Math.max(peak, agent.rssKib());
            Thread.sleep(50);
        }
        return peak;
    }
}
