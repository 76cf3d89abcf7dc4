package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.swap.SwapStore;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A donor whose budget is cut under a steady swap workload: it rejects new puts, hands persistent pages back to
 * the agent, which writes them to its disk file, and every acknowledged page still reads back. Given its budget
 * back, it takes puts again.
 */
class PressureTest {
    private static final String TOKEN = "pressure-secret";
    private static final int B = 4096;
    private static final PageContent CONTENT = new PageContent(0);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    @Timeout(180)
    void halvedCapacityHandsPagesBackToTheAgentsDiskAndLosesNothing(@TempDir Path dir) throws Exception {
        try (DonorProcess donor = Donors.start("pressure", TOKEN, "64m");
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN));
             SwapStore swap = SwapStore.open(client, 256L << 20, dir.resolve("swap.img"), 1)) {
            int[] version = new int[65536];
            int blocks = 10240; // 40 MiB of incompressible pages: all of it fits in 64 MiB
            for (int first = 0; first < blocks; first += 64) {
                write(swap, version, first, 64);
            }
            assertEquals(blocks, swap.census()[1], "everything is in the cluster before the cut");

            assertEquals(200, Donors.http(donor, "PUT", "/admin/capacity", Donors.adminToken(TOKEN), "{\"bytes\": " + (32L << 20) + "}").statusCode());
            // A steady workload goes on: rewrites of old slots and new slots.
            SplittableRandom random = new SplittableRandom(3);
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (swap.counters().handedBack() == 0 || swap.counters().spilledToDisk() == 0 || level(donor) == 3) {
                assertTrue(System.nanoTime() < deadline, "pages were handed back, puts were rejected, and the donor left MIN: "
                    + stats(donor));
                write(swap, version, random.nextInt(blocks / 64) * 64, 64);
                write(swap, version, blocks + random.nextInt(4096 / 64) * 64, 64);
            }
            JsonNode s = stats(donor);
            assertTrue(s.get("handed_back").asLong() > 0 && s.get("puts_rejected").asLong() > 0, s.toString());
            assertTrue(s.get("used_bytes").asLong() <= 32L << 20, "the donor is back under its budget: " + s);
            assertTrue(swap.census()[2] > 0, "slots moved to the disk file");
            verify(swap, version);

            assertEquals(200, Donors.http(donor, "PUT", "/admin/capacity", Donors.adminToken(TOKEN), "{\"bytes\": " + (128L << 20) + "}").statusCode());
            long spilled = swap.counters().spilledToDisk();
            long inCluster = swap.census()[1];
            for (int first = 20480; first < 20480 + 1024; first += 64) {
                write(swap, version, first, 64);
            }
            assertEquals(spilled, swap.counters().spilledToDisk(), "with its budget back the donor takes every put");
            assertEquals(inCluster + 1024, swap.census()[1]);
            verify(swap, version);
        }
    }

    private static void write(SwapStore swap, int[] version, int first, int n) {
        byte[] data = new byte[n * B];
        for (int j = 0; j < n; j++) {
            fill(data, j * B, first + j, ++version[first + j]);
        }
        swap.write(first, n, data, 0).join();
    }

    private static void verify(SwapStore swap, int[] version) {
        byte[] got = new byte[64 * B];
        byte[] want = new byte[B];
        for (int first = 0; first < version.length; first += 64) {
            swap.read(first, 64, got, 0).join();
            for (int j = 0; j < 64; j++) {
                int v = version[first + j];
                if (v == 0) {
                    java.util.Arrays.fill(want, (byte) 0);
                } else {
                    fill(want, 0, first + j, v);
                }
                assertArrayEquals(want, java.util.Arrays.copyOfRange(got, j * B, (j + 1) * B), "slot " + (first + j));
            }
        }
    }

    /** Version {@code version} of slot {@code slot}: incompressible, and different for every version. */
    private static void fill(byte[] data, int at, int slot, int version) {
        CONTENT.fill(version, slot, data, at);
    }

    private static JsonNode stats(DonorProcess donor) throws Exception {
        return JSON.readTree(Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body());
    }

    private static int level(DonorProcess donor) throws Exception {
        return stats(donor).get("watermark_level").asInt();
    }
}
