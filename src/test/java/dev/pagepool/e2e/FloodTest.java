package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.protocol.PoolSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Puts far beyond a donor's budget, from several threads at once: the donor rejects them and stays up, inside
 * its memory bound, and keeps serving gets and flushes meanwhile.
 */
class FloodTest {
    private static final String TOKEN = "flood-secret";
    private static final int P = 4096;
    private static final long CAPACITY = 64L << 20;
    private static final long HEAP = 256L << 20;
    /** JVM metaspace, code cache, thread stacks, GC structures, the page index: what the README states. */
    private static final long OVERHEAD = 256L << 20;
    /** The first test's flooders: objects 100 on, 1,000 rounds of 64 pages: 256 MiB each, 12x the budget in all. */
    private static final long FLOOD_OBJECT = 100;
    private static final int FLOOD_BATCH = 64;
    private static final int FLOOD_ROUNDS = 1000;

    @Test
    @Timeout(180)
    void aPutFloodIsRejectedWhileGetsAndFlushesAreServedAndMemoryStaysBounded() throws Exception {
        try (DonorProcess donor = Donors.start("flood", TOKEN, "64m");
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN)
                 .withConnectionsPerNode(4))) {
            PoolRef pool = client.newPool(PoolSpec.privatePool(true));
            // 1,000 pages the reader checks throughout.
            int kept = 1000;
            long[] objects = new long[kept];
            int[] indexes = new int[kept];
            byte[] keptPages = new byte[kept * P];
            new SplittableRandom(1).nextBytes(keptPages);
            for (int i = 0; i < kept; i++) {
                indexes[i] = i;
            }
            PageStatus[] st = client.putBatch(pool, objects, indexes, keptPages, kept);
            for (PageStatus s : st) {
                assertEquals(PageStatus.OK, s);
            }

            AtomicLong rejected = new AtomicLong();
            AtomicLong accepted = new AtomicLong();
            CompletableFuture<?>[] flooders = new CompletableFuture<?>[3];
            BitSet[] acceptedPages = new BitSet[flooders.length];
            for (int t = 0; t < flooders.length; t++) {
                long object = FLOOD_OBJECT + t;
                BitSet mine = acceptedPages[t] = new BitSet();
                flooders[t] = CompletableFuture.runAsync(() -> {
                    FloodPages pages = new FloodPages(object);
                    for (int round = 0; round < FLOOD_ROUNDS; round++) {
                        pages.round(round);
                        PageStatus[] put = client.putBatch(pool, pages.objects, pages.indexes, pages.data, FLOOD_BATCH);
                        for (int j = 0; j < FLOOD_BATCH; j++) {
                            (put[j] == PageStatus.OK ? accepted : rejected).incrementAndGet();
                            mine.set(pages.indexes[j], put[j] == PageStatus.OK);
                        }
                    }
                });
            }
            long gets = 0;
            long flushes = 0;
            byte[] got = new byte[P];
            long maxRss = 0;
            SplittableRandom r = new SplittableRandom(9);
            while (!CompletableFuture.allOf(flooders).isDone()) {
                int i = r.nextInt(kept / 2);
                assertEquals(PageStatus.OK, client.get(pool, 0, i, false, got), "page " + i + " during the flood");
                assertArrayEquals(java.util.Arrays.copyOfRange(keptPages, i * P, (i + 1) * P), got);
                gets++;
                int f = kept / 2 + (int) (flushes % (kept / 2));
                if (flushes < kept / 2) {
                    assertTrue(client.flushPage(pool, 0, f), "flush of page " + f + " during the flood");
                    flushes++;
                }
                maxRss = Math.max(maxRss, rss(donor));
            }
            CompletableFuture.allOf(flooders).join();
            assertTrue(donor.isAlive());
            // What the donor accepted under pressure it keeps, byte for byte; what it rejected, it does not have.
            for (int t = 0; t < flooders.length; t++) {
                readBackFlood(client, pool, FLOOD_OBJECT + t, acceptedPages[t]);
            }
            // The kept pages: the first half still there as put, the flushed ones gone, the rest (if the flood
            // ended before every flush was sent) still there.
            byte[] after = new byte[kept * P];
            PageStatus[] keptNow = client.getBatch(pool, objects, indexes, kept, false, after);
            for (int i = 0; i < kept; i++) {
                if (i >= kept / 2 && i < kept / 2 + flushes) {
                    assertEquals(PageStatus.MISS, keptNow[i], "page " + i + " was flushed during the flood");
                } else {
                    assertEquals(PageStatus.OK, keptNow[i], "page " + i + " after the flood");
                    assertArrayEquals(java.util.Arrays.copyOfRange(keptPages, i * P, (i + 1) * P),
                        java.util.Arrays.copyOfRange(after, i * P, (i + 1) * P), "page " + i + " after the flood");
                }
            }
            JsonNode stats = new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body());
            System.out.printf("[flood] %d pages accepted, %d rejected; %d gets and %d flushes served meanwhile; "
                    + "donor RSS at most %d MiB for a %d MiB budget (%s)%n", accepted.get(), rejected.get(), gets, flushes,
                maxRss >> 20, CAPACITY >> 20, stats.get("watermark").asText());
            assertTrue(rejected.get() > accepted.get(), "most of a flood 12x the budget is rejected");
            assertTrue(gets > 100 && flushes > 100, "gets and flushes went on during the flood: " + gets + " / " + flushes);
            assertTrue(stats.get("used_bytes").asLong() <= CAPACITY, stats.toString());
            long bound = CAPACITY + stats.get("reserve_bytes").asLong() + HEAP + OVERHEAD;
            assertTrue(maxRss <= bound, "resident " + (maxRss >> 20) + " MiB within capacity + reserve + heap + "
                + (OVERHEAD >> 20) + " MiB = " + (bound >> 20) + " MiB");
        }
    }

    /**
     * Pages that take no slab (one repeated word) or almost none (compressible): the slab budget never fills, so only
     * the index's page cap, derived from the heap, stops them. Without it the index grows on the heap until an
     * OutOfMemoryError takes every page of the donor with it.
     */
    @Test
    @Timeout(300)
    void aFloodOfSameFilledAndCompressiblePagesIsRejectedAtThePageCapAndTheDonorStaysUp() throws Exception {
        IndexFlood flood = floodTheIndex("flood-index", (thread, round, obj, idx, data) -> {
            if (round == 0 && thread == 1) {
                for (int j = 0; j < obj.length; j++) {
                    data[j * P] = (byte) (j + 1); // one byte set, the rest zero: LZ4 makes it tiny
                }
            }
            java.util.Arrays.fill(obj, 10 + thread);
            for (int j = 0; j < idx.length; j++) {
                idx[j] = (int) (round * idx.length + j);
            }
        });
        JsonNode stats = flood.stats();
        System.out.printf("[flood-index] %d tiny pages accepted, %d rejected at the cap of %d pages; donor RSS at "
            + "most %d MiB with a %d MiB heap%n", flood.accepted(), flood.rejected() + flood.failed(),
            stats.get("max_pages").asLong(), flood.maxRss() >> 20, INDEX_FLOOD_HEAP >> 20);
        long maxPages = stats.get("max_pages").asLong();
        long cap = indexFloodCap();
        // The JVM reports a little less than -Xmx as its heap (a survivor space), so the cap is a little lower.
        assertTrue(maxPages <= cap && maxPages > cap / 2, "the cap follows the heap: " + maxPages + " of " + cap);
        assertTrue(stats.get("pages").asLong() <= maxPages, stats.toString());
        assertTrue(flood.rejected() + flood.failed() > 0 && stats.get("puts_index_full").asLong() > 0,
            "the flood met the cap: " + stats);
        assertTrue(flood.accepted() <= maxPages, "no more pages than the cap were taken");
        long bound = CAPACITY + stats.get("reserve_bytes").asLong() + INDEX_FLOOD_HEAP + OVERHEAD;
        assertTrue(flood.maxRss() <= bound, "resident " + (flood.maxRss() >> 20) + " MiB within " + (bound >> 20) + " MiB");
    }

    /**
     * Zero pages, each of an object of its own: the object table grows with the index, about 64 bytes more a page
     * than the 40 the page cap assumes, so a cap on pages alone let the heap run out first (and the object table,
     * caught half-grown by the OutOfMemoryError, failed every put after). Objects count against the same budget, so
     * the donor rejects such a flood at well under the page cap, and stays up.
     */
    @Test
    @Timeout(300)
    void aFloodOfOnePagePerObjectIsRejectedBeforeTheHeapRunsOut() throws Exception {
        long pagesPerThread = indexFloodCap() * 6 / 10;
        IndexFlood flood = floodTheIndex("flood-objects", (thread, round, obj, idx, data) -> {
            for (int j = 0; j < obj.length; j++) {
                obj[j] = 1 + thread * pagesPerThread + round * obj.length + j;
            }
        });
        JsonNode stats = flood.stats();
        System.out.printf("[flood-objects] %d pages of their own object accepted, %d rejected, %d failed; page cap "
            + "%d%n", flood.accepted(), flood.rejected(), flood.failed(), stats.get("max_pages").asLong());
        assertTrue(!flood.log().contains("OutOfMemoryError"), "the heap never ran out:\n"
            + flood.log().substring(Math.max(0, flood.log().indexOf("OutOfMemoryError") - 200)).lines().limit(20)
                .collect(java.util.stream.Collectors.joining("\n")));
        assertEquals(0, flood.failed(), "every page was stored or rejected, none failed");
        assertTrue(flood.rejected() > 0 && stats.get("puts_index_full").asLong() > 0, "the flood met the cap: " + stats);
        long maxPages = stats.get("max_pages").asLong();
        // 40 bytes a page and 64 an object: 40 / 104 of the page cap, and a little more for the objects free.
        assertTrue(flood.accepted() < maxPages / 2, flood.accepted() + " pages in as many objects, for a page cap of "
            + maxPages + ": the objects counted against it");
    }

    private static final long INDEX_FLOOD_HEAP = 64L << 20;
    private static final int INDEX_FLOOD_BATCH = 256;

    /** PageIndexBudget's cap for the index floods' heap: half of it at 40 bytes a page. */
    private static long indexFloodCap() {
        return (long) (INDEX_FLOOD_HEAP * 0.5) / 40;
    }

    /** Sets a batch's handles (and, if it likes, its data, zeros to start with) for round {@code round} of a thread. */
    private interface FloodBatch {
        void fill(int thread, long round, long[] objects, int[] indexes, byte[] data);
    }

    /** What an index flood came to: page counts by status, the donor's stats and log after it, its peak RSS. */
    private record IndexFlood(long accepted, long rejected, long failed, JsonNode stats, String log, long maxRss) {
    }

    /**
     * Two threads put 1.2 times the page cap of a donor with a small heap, in batches made by {@code batches}, while
     * this thread checks that a page stored before stays readable; the donor must be up and serving afterwards.
     */
    private static IndexFlood floodTheIndex(String name, FloodBatch batches) throws Exception {
        try (DonorProcess donor = Donors.start(Donors.lone(name, TOKEN, "64m").withHeap("64m"));
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN)
                 .withConnectionsPerNode(2))) {
            PoolRef pool = client.newPool(PoolSpec.privatePool(true));
            byte[] kept = new byte[P];
            new SplittableRandom(3).nextBytes(kept);
            assertEquals(PageStatus.OK, client.put(pool, 0, 0, kept));
            AtomicLong rejected = new AtomicLong();
            AtomicLong accepted = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            long pagesPerThread = indexFloodCap() * 6 / 10; // 1.2x the cap in all
            CompletableFuture<?>[] flooders = new CompletableFuture<?>[2];
            for (int t = 0; t < flooders.length; t++) {
                int thread = t;
                flooders[t] = CompletableFuture.runAsync(() -> {
                    byte[] data = new byte[INDEX_FLOOD_BATCH * P];
                    long[] obj = new long[INDEX_FLOOD_BATCH];
                    int[] idx = new int[INDEX_FLOOD_BATCH];
                    for (long round = 0; round * INDEX_FLOOD_BATCH < pagesPerThread; round++) {
                        batches.fill(thread, round, obj, idx, data);
                        for (PageStatus s : client.putBatch(pool, obj, idx, data, INDEX_FLOOD_BATCH)) {
                            (s == PageStatus.OK ? accepted : s == PageStatus.REJECTED ? rejected : failed)
                                .incrementAndGet();
                        }
                    }
                });
            }
            long maxRss = 0;
            byte[] got = new byte[P];
            while (!CompletableFuture.allOf(flooders).isDone()) {
                assertEquals(PageStatus.OK, client.get(pool, 0, 0, false, got), "a stored page during the flood");
                maxRss = Math.max(maxRss, rss(donor));
                Thread.sleep(50);
            }
            CompletableFuture.allOf(flooders).join();
            assertTrue(donor.isAlive(), "the donor survived the flood:\n" + donor.logTail(20));
            assertEquals(PageStatus.OK, client.get(pool, 0, 0, false, got), "the page stored before the flood");
            assertArrayEquals(kept, got);
            JsonNode stats = new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body());
            return new IndexFlood(accepted.get(), rejected.get(), failed.get(), stats, Files.readString(donor.log()),
                maxRss);
        }
    }

    /** One flooder's pages, round by round: the same random bytes at the same indexes each time it is made. */
    private static final class FloodPages {
        final byte[] data = new byte[FLOOD_BATCH * P];
        final long[] objects = new long[FLOOD_BATCH];
        final int[] indexes = new int[FLOOD_BATCH];
        private final SplittableRandom random;

        FloodPages(long object) {
            java.util.Arrays.fill(objects, object);
            random = new SplittableRandom(object);
        }

        /** Moves to the pages of {@code round}, at indexes {@code round * FLOOD_BATCH} on; rounds go in order. */
        void round(int round) {
            random.nextBytes(data);
            for (int j = 0; j < FLOOD_BATCH; j++) {
                indexes[j] = round * FLOOD_BATCH + j;
            }
        }
    }

    /** Gets every page a flooder put, replaying its rounds: the accepted ones hit with their bytes, the others miss. */
    private static void readBackFlood(PagePoolClient client, PoolRef pool, long object, BitSet accepted) {
        FloodPages pages = new FloodPages(object);
        byte[] got = new byte[FLOOD_BATCH * P];
        for (int round = 0; round < FLOOD_ROUNDS; round++) {
            pages.round(round);
            PageStatus[] st = client.getBatch(pool, pages.objects, pages.indexes, FLOOD_BATCH, false, got);
            for (int j = 0; j < FLOOD_BATCH; j++) {
                String page = "flood page " + object + "/" + pages.indexes[j];
                if (!accepted.get(pages.indexes[j])) {
                    assertEquals(PageStatus.MISS, st[j], page + " was rejected: nothing of it may be found");
                    continue;
                }
                assertEquals(PageStatus.OK, st[j], page + " was accepted");
                assertTrue(java.util.Arrays.equals(got, j * P, (j + 1) * P, pages.data, j * P, (j + 1) * P),
                    page + " reads back as put");
            }
        }
    }

    /** Resident set of the donor process, from /proc. */
    private static long rss(DonorProcess donor) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + donor.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS for the donor");
    }
}
