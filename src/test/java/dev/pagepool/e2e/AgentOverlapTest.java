package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several NBD clients, each on its own connection and so, with {@code --event-loops} above 1, on its own event
 * loop, send overlapping multi-page writes and write-zeroes over the same blocks at once: every request is
 * answered, and every page ends as one whole write (or zeros), never a mix.
 */
class AgentOverlapTest {
    private static final int PAGE = 4096;
    private static final int CLIENTS = 4;
    /**
     * Requests of 128 pages (the longer a request's registration, the wider the window two of them can cross in),
     * each starting 16 pages after the last: every page is covered by 8 requests of a client.
     */
    private static final int REQUEST_BYTES = 128 * PAGE;
    private static final int STEP_BYTES = 16 * PAGE;
    private static final int REQUESTS = 192;
    private static final int AREA_BYTES = 8 << 20;

    @Test
    @Timeout(300)
    void overlappingWritesAndWriteZeroesFromSeveralLoopsAllCompleteAndLeaveWholePages(@TempDir Path dir)
        throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-overlap", 2, "128m");
             AgentProcess agent = AgentProcess.start(List.of("--nodes", cluster.nodesArg(), "--size", "16m",
                 "--disk", dir.resolve("swap.img").toString(), "--replicas", "2", "--event-loops", "4"))) {
            List<Tool.Running> clients = new ArrayList<>();
            try {
                for (int c = 0; c < CLIENTS; c++) {
                    clients.add(Tool.start(qemuIo(agent.uri(), c).toArray(String[]::new)));
                }
                for (Tool.Running client : clients) {
                    Tool done = client.finish(120).ok();
                    assertTrue(!done.output().contains("failed"), done.output());
                }
            } finally {
                for (Tool.Running client : clients) {
                    client.close();
                }
            }
            Path out = dir.resolve("out.bin");
            Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
            byte[] back = Files.readAllBytes(out);
            for (int page = 0; page < AREA_BYTES / PAGE; page++) {
                byte first = back[page * PAGE];
                assertTrue(first == 0 || (first & 0xFF) >= 0x10, "page " + page + " holds a byte no client wrote");
                for (int i = 1; i < PAGE; i++) {
                    assertEquals(first, back[page * PAGE + i], "page " + page + " is one whole write, not a mix");
                }
            }
        }
    }

    /**
     * One client's requests, all in flight at once (aio): odd clients walk the area upwards, even ones downwards,
     * so two clients meet on shared pages in both orders; every third request writes zeroes.
     */
    private static List<String> qemuIo(String uri, int client) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (int r = 0; r < REQUESTS; r++) {
            int step = client % 2 == 0 ? REQUESTS - 1 - r : r;
            long offset = (long) step * STEP_BYTES % (AREA_BYTES - REQUEST_BYTES);
            String pattern = "0x" + Integer.toHexString(0x10 + client * 0x20 + r % 0x20);
            cmd.add("-c");
            cmd.add(r % 3 == 2 ? "aio_write -z -q " + offset + " " + REQUEST_BYTES
                : "aio_write -q -P " + pattern + " " + offset + " " + REQUEST_BYTES);
        }
        cmd.add("-c");
        cmd.add("aio_flush");
        return cmd;
    }

}
