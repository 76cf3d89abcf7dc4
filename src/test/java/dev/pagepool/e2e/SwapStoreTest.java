package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.swap.SwapStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The swap store on two real donors too small for it: what they reject lands on disk, and all of it reads back. */
class SwapStoreTest {
    private static final String TOKEN = "swap-secret";
    private static final int B = 4096;
    private static final PageContent CONTENT = new PageContent(0);

    @Test
    @Timeout(120)
    void pagesTheClusterRejectsGoToDiskAndEverySlotReadsBack(@TempDir Path dir) throws Exception {
        try (DonorProcess a = Donors.start("swap-a", TOKEN, "16m");
             DonorProcess b = Donors.start("swap-b", TOKEN, "16m");
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(a.dataAddress(), b.dataAddress()), TOKEN));
             SwapStore swap = SwapStore.open(client, 64L << 20, dir.resolve("swap.img"), 0)) {
            assertEquals(2, swap.pool().replicas());
            int blocks = 8192; // 32 MiB of incompressible pages, twice what the donors hold with 2 copies each
            byte[] chunk = new byte[64 * B];
            for (int first = 0; first < blocks; first += 64) {
                fill(chunk, first);
                swap.write(first, 64, chunk, 0).join();
            }
            long[] census = swap.census();
            assertTrue(census[1] > 0 && census[2] > 0, "some slots in the cluster, some on disk: "
                + java.util.Arrays.toString(census));
            assertEquals(census[2], swap.counters().spilledToDisk());
            assertEquals(blocks, census[1] + census[2]);

            byte[] got = new byte[64 * B];
            for (int first = 0; first < blocks; first += 64) {
                fill(chunk, first);
                swap.read(first, 64, got, 0).join();
                assertArrayEquals(chunk, got, "blocks " + first + "..");
            }
            // Unaligned offsets in the caller's buffer, and a read across cluster, disk and never-written slots.
            byte[] odd = new byte[3 * B + 7];
            swap.read(blocks - 1, 3, odd, 7).join();
            fill(chunk, blocks - 64);
            assertArrayEquals(java.util.Arrays.copyOfRange(chunk, 63 * B, 64 * B), java.util.Arrays.copyOfRange(odd, 7, 7 + B));
            assertArrayEquals(new byte[2 * B], java.util.Arrays.copyOfRange(odd, 7 + B, odd.length));

            swap.write(5, 1, new byte[B], 0).join();
            swap.trim(64, 64).join();
            long[] after = swap.census();
            assertEquals(65, after[0] - census[0], "a zero write and a trim leave 65 more slots stored nowhere");
            swap.read(0, 64, got, 0).join();
            assertArrayEquals(new byte[B], java.util.Arrays.copyOfRange(got, 5 * B, 6 * B));
            swap.read(64, 64, got, 0).join();
            assertArrayEquals(new byte[64 * B], got, "trimmed slots read as zeros");
            swap.flush().join();
            assertTrue(Files.size(dir.resolve("swap.img")) > 0);
        }
    }

    /** Blocks {@code first..} as incompressible pages: the donors hold no more of them than their budget. */
    private static void fill(byte[] chunk, int first) {
        for (int j = 0; j < chunk.length / B; j++) {
            CONTENT.fill(0, first + j, chunk, j * B);
        }
    }
}
