package dev.pagepool.node.store;

/**
 * How many pages the donor's index may hold. The index lives on the JVM heap, outside the slab budget, and a
 * same-filled page takes no slab at all, so without a cap on pages a flood of zero (or tiny) pages would grow
 * the heap until an OutOfMemoryError took the whole donor down. Every page therefore counts against the heap
 * as well: at most {@link #HEAP_SHARE} of {@code -Xmx}, at {@link #BYTES_PER_PAGE} each.
 *
 * <p>The cap is in pages, and holds as it is while objects have many pages each, as the agent's do (one object
 * per pool). An object costs the index {@link #BYTES_PER_OBJECT} more, which a page's 40 bytes do not cover: a
 * client that puts one page per object would fill the heap at about 40 % of the cap. So each object beyond those
 * the object tables hold from the start counts against the same bytes ({@link #indexBytes}); with one page per
 * object the index then holds {@code 40 / (40 + 64)} of the cap.
 */
public final class PageIndexBudget {
    /**
     * Heap charged per page: the ~30 bytes of {@link PageTable}'s arrays and the object table's share, plus the
     * slack of a probe-table rehash (old and new bucket arrays live together for a moment).
     */
    public static final int BYTES_PER_PAGE = 40;
    /**
     * Heap charged per object, on top of its pages: {@link ObjectTable}'s 24 bytes of arrays per object, twice over
     * because they grow by doubling, and about 7 bytes of probe table (more while it is rehashed).
     */
    public static final int BYTES_PER_OBJECT = 64;
    /** Share of the heap the index may fill; the rest is the application's (REST, Hazelcast, buffers). */
    public static final double HEAP_SHARE = 0.5;

    private PageIndexBudget() {
    }

    /** The page cap for a heap of {@code maxHeapBytes}. */
    public static long forHeap(long maxHeapBytes) {
        return Math.max(1, (long) (maxHeapBytes * HEAP_SHARE) / BYTES_PER_PAGE);
    }

    /**
     * What an index of {@code pages} pages in {@code objects} objects (in one of the two object tables) is charged,
     * to be held within {@code cap * BYTES_PER_PAGE}: the objects each table holds from the start cost nothing more.
     */
    static long indexBytes(long pages, int persistentObjects, int ephemeralObjects) {
        return pages * BYTES_PER_PAGE + (extraObjects(persistentObjects) + extraObjects(ephemeralObjects))
            * (long) BYTES_PER_OBJECT;
    }

    private static long extraObjects(int objects) {
        return Math.max(0, objects - ObjectTable.INITIAL_CAPACITY);
    }

    /** The page cap for this JVM's heap. */
    public static long forThisHeap() {
        return forHeap(Runtime.getRuntime().maxMemory());
    }
}
