package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Prints what the page store costs in memory: index bytes per page with a million pages stored, total bytes
 * per zero page, and single-thread store speed. A program, not a test: {@code bench/store-footprint.sh} runs it
 * on a plain class path, where lz4-java finds its native codec (under Maven's class loader it cannot).
 * The measured heap growth is higher than the array sizes because G1 rounds arrays larger than half a region
 * up to whole regions.
 */
public final class StoreFootprintBenchmark {
    private static final int PAGES = 1_000_000;
    private static final int ZERO_PAGES = 100_000;

    public static void main(String[] args) {
        ByteBuffer page = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
        ByteBuffer out = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
        byte[] random = new byte[PageStore.PAGE_SIZE];
        SplittableRandom rnd = new SplittableRandom(1);

        long heapBefore = usedHeap();
        try (PageStore store = new PageStore(new StoreSettings(8L << 30, 32 << 20, true))) {
            Scratch s = store.newScratch();
            long t0 = System.nanoTime();
            for (int i = 0; i < PAGES; i++) {
                // Half text-like, half random: a realistic mix for the arena, irrelevant to the index.
                rnd.nextBytes(random);
                for (int b = 0; b < 2048; b++) {
                    random[b] = (byte) ('a' + (b + i) % 7);
                }
                page.put(0, random);
                store.put(s, 1, true, i / 1000, i % 1000, page, 0);
            }
            double putSeconds = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            for (int i = 0; i < PAGES; i++) {
                store.get(s, 1, true, i / 1000, i % 1000, false, out, 0);
            }
            double getSeconds = (System.nanoTime() - t0) / 1e9;
            StoreStats st = store.stats();
            long heapAfter = usedHeap();
            System.out.printf("%,d pages stored (%s)%n", st.pages(), store.compressorName());
            System.out.printf("index metadata: %,d bytes = %.1f bytes/page (heap growth measured: %.1f bytes/page)%n",
                st.metadataBytes(), (double) st.metadataBytes() / st.pages(), (double) (heapAfter - heapBefore) / st.pages());
            System.out.printf("page data: %,d bytes stored in %,d bytes of slabs (%.2fx vs raw)%n",
                st.storedBytes(), st.usedBytes(), (double) st.pages() * PageStore.PAGE_SIZE / st.usedBytes());
            System.out.printf("single thread: put %,.0f pages/s, get %,.0f pages/s (incl. generating random pages)%n",
                PAGES / putSeconds, PAGES / getSeconds);
        }

        try (PageStore store = new PageStore(new StoreSettings(1L << 30, 32 << 20, true))) {
            Scratch s = store.newScratch();
            ByteBuffer zero = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
            for (int i = 0; i < ZERO_PAGES; i++) {
                store.put(s, 1, true, 0, i, zero, 0);
            }
            StoreStats st = store.stats();
            System.out.printf("%,d zero pages: %,d bytes of slabs + %,d bytes of index = %.1f bytes/zero page%n",
                st.pages(), st.usedBytes(), st.metadataBytes(), (double) (st.usedBytes() + st.metadataBytes()) / st.pages());
        }
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
