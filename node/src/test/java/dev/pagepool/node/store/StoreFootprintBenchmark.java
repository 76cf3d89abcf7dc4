package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Prints what the page store costs: index bytes per page with a million pages stored, total bytes per zero
 * page, and single-thread put and get rates. A program, not a test, because its figures are reported rather
 * than asserted (the bounds are pinned by {@code PageStoreTest}) and a million pages take seconds.
 *
 * <p>Pages are drawn from a pre-built set of {@value #DISTINCT_PAGES} so the timed loops measure the store,
 * not page generation. Each page is part random, part text, in proportions from all-text to all-random, so
 * compression lands pages across the size classes; the mix averages about 1.5 KiB of slab per page, which
 * keeps the 1.5 GB arena within the default direct-memory limit of a 2 GiB heap.
 *
 * <p>The heap growth is a cross-check of the metadata the store reports: it runs a little higher because G1
 * rounds arrays larger than half a region up to whole regions, and under Maven it also catches whatever the
 * build allocates meanwhile.
 */
public final class StoreFootprintBenchmark {
    private static final int PAGES = 1_000_000;
    private static final int ZERO_PAGES = 100_000;
    private static final int DISTINCT_PAGES = 256;
    private static final int PAGES_PER_OBJECT = 1000;
    /** Eighths of a page filled with random bytes, cycled through by the page set. */
    private static final int[] RANDOM_EIGHTHS = {0, 1, 1, 2, 2, 3, 4, 8};
    private static final int MIB = 1 << 20;

    private StoreFootprintBenchmark() {
    }

    public static void main(String[] args) {
        ByteBuffer pages = mixedPages();
        ByteBuffer out = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);

        long heapBefore = usedHeap();
        try (PageStore store = new PageStore(new StoreSettings(8L << 30, 32 * MIB, true))) {
            Scratch s = store.newScratch();
            long t0 = System.nanoTime();
            for (int i = 0; i < PAGES; i++) {
                int offset = (i % DISTINCT_PAGES) * PageStore.PAGE_SIZE;
                if (store.put(s, 1, true, i / PAGES_PER_OBJECT, i % PAGES_PER_OBJECT, i, pages, offset) != PageStore.STORED) {
                    throw new IllegalStateException("page " + i + " rejected: the budget is meant to hold them all");
                }
            }
            long putNanos = System.nanoTime() - t0;
            t0 = System.nanoTime();
            int hits = 0;
            for (int i = 0; i < PAGES; i++) {
                hits += store.get(s, 1, true, i / PAGES_PER_OBJECT, i % PAGES_PER_OBJECT, false, out, 0) == PageStore.HIT ? 1 : 0;
            }
            long getNanos = System.nanoTime() - t0;
            if (hits != PAGES) {
                throw new IllegalStateException(hits + " hits for " + PAGES + " persistent pages");
            }
            StoreStats st = store.stats();
            long heapAfter = usedHeap();
            System.out.printf("codec: %s%n", store.compressorName());
            System.out.printf("%,d persistent pages stored (%,d compressed, %,d same-filled)%n",
                st.pages(), st.compressedPages(), st.sameFilledPages());
            System.out.printf("metadata: %,d bytes = %.1f bytes/page (heap growth after GC: %.1f bytes/page)%n",
                st.metadataBytes(), (double) st.metadataBytes() / st.pages(), (double) (heapAfter - heapBefore) / st.pages());
            System.out.printf("page data: %,d bytes stored in %,d bytes of slabs, %,d bytes of arena (%.2fx smaller than raw)%n",
                st.storedBytes(), st.usedBytes(), st.arenaBytes(), (double) st.pages() * PageStore.PAGE_SIZE / st.usedBytes());
            System.out.printf("single thread: put %,.0f pages/s (%.2f us/page), get %,.0f pages/s (%.2f us/page)%n",
                PAGES * 1e9 / putNanos, putNanos / 1e3 / PAGES, PAGES * 1e9 / getNanos, getNanos / 1e3 / PAGES);
        }

        try (PageStore store = new PageStore(new StoreSettings(1L << 30, 32 * MIB, true))) {
            Scratch s = store.newScratch();
            ByteBuffer zero = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
            for (int i = 0; i < ZERO_PAGES; i++) {
                store.put(s, 1, true, i / PAGES_PER_OBJECT, i % PAGES_PER_OBJECT, i, zero, 0);
            }
            StoreStats st = store.stats();
            System.out.printf("%,d zero pages: %,d bytes of arena + %,d bytes of metadata = %.1f bytes/zero page%n",
                st.pages(), st.arenaBytes(), st.metadataBytes(), (double) (st.arenaBytes() + st.metadataBytes()) / st.pages());
        }
    }

    private static ByteBuffer mixedPages() {
        SplittableRandom random = new SplittableRandom(1);
        byte[] text = "the quick brown fox jumps over the lazy dog; 0123456789 ".getBytes();
        byte[] page = new byte[PageStore.PAGE_SIZE];
        ByteBuffer pages = ByteBuffer.allocateDirect(DISTINCT_PAGES * PageStore.PAGE_SIZE);
        for (int p = 0; p < DISTINCT_PAGES; p++) {
            int randomBytes = RANDOM_EIGHTHS[p % RANDOM_EIGHTHS.length] * PageStore.PAGE_SIZE / 8;
            random.nextBytes(page);
            for (int b = randomBytes; b < PageStore.PAGE_SIZE; b++) {
                page[b] = text[(b + p) % text.length];
            }
            pages.put(p * PageStore.PAGE_SIZE, page);
        }
        return pages;
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
