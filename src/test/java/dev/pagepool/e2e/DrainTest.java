package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.swap.SwapStore;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A donor holding a few hundred MiB of a swap device is drained while the agent keeps reading: every page comes
 * back to the agent's disk file, every read during and after the drain returns the right bytes.
 */
class DrainTest {
    private static final String TOKEN = "drain-secret";
    private static final int B = 4096;
    private static final PageContent CONTENT = new PageContent(0.5);
    private static final int BLOCKS = 64 * 1024; // 256 MiB

    @Test
    @Timeout(240)
    void drainingADonorHandsEveryPageBackWhileReadsGoOn(@TempDir Path dir) throws Exception {
        try (DonorProcess donor = Donors.start(Donors.lone("drained", TOKEN, "400m").with("pagepool.node.drain-timeout", "120s"));
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN));
             SwapStore swap = SwapStore.open(client, (long) BLOCKS * B, dir.resolve("swap.img"), 1)) {
            byte[] chunk = new byte[256 * B];
            for (int first = 0; first < BLOCKS; first += 256) {
                fill(chunk, first);
                swap.write(first, 256, chunk, 0).join();
            }
            assertEquals(BLOCKS, swap.census()[1], "all of it in the donor before the drain");

            AtomicBoolean draining = new AtomicBoolean(true);
            AtomicLong readsChecked = new AtomicLong();
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                SplittableRandom random = new SplittableRandom(5);
                byte[] got = new byte[64 * B];
                byte[] want = new byte[64 * B];
                while (draining.get()) {
                    int first = random.nextInt(BLOCKS / 64) * 64;
                    swap.read(first, 64, got, 0).join();
                    fill(want, first);
                    assertArrayEquals(want, got, "blocks " + first + ".. read during the drain");
                    readsChecked.incrementAndGet();
                }
            });
            long t0 = System.nanoTime();
            HttpResponse<String> drained = Donors.http(donor, "POST", "/admin/drain", Donors.adminToken(TOKEN), null);
            long millis = (System.nanoTime() - t0) / 1_000_000;
            draining.set(false);
            reader.join();
            assertEquals(200, drained.statusCode(), drained.body());
            JsonNode summary = new ObjectMapper().readTree(drained.body());
            System.out.printf("[drain] %d MiB handed back in %d ms (donor's own count %d ms), %d reads checked meanwhile%n",
                summary.get("bytes_handed_back").asLong() >> 20, millis, summary.get("millis").asLong(), readsChecked.get());
            assertEquals(BLOCKS, summary.get("pages_handed_back").asLong(), drained.body());
            assertEquals(0, summary.get("pages_left").asLong(), drained.body());
            assertFalse(summary.get("timed_out").asBoolean());
            assertTrue(readsChecked.get() > 0, "reads went on during the drain");
            assertEquals(BLOCKS, swap.census()[2], "every slot now lives in the disk file");
            assertEquals(503, Donors.http(donor, "GET", "/q/health/ready", null, null).statusCode(), "a drained donor is not ready");

            byte[] got = new byte[256 * B];
            for (int first = 0; first < BLOCKS; first += 256) {
                swap.read(first, 256, got, 0).join();
                fill(chunk, first);
                assertArrayEquals(chunk, got, "blocks " + first + ".. after the drain");
            }
        }
    }

    /** Half-compressible pages, different for every block. */
    private static void fill(byte[] data, int first) {
        for (int j = 0; j < data.length / B; j++) {
            CONTENT.fill(0, first + j, data, j * B);
        }
    }
}
