package dev.pagepool.node.store;

/**
 * How many pages the donor's index may hold. The index lives on the JVM heap, outside the slab budget, and a
 * same-filled page takes no slab at all, so without a cap on pages a flood of zero (or tiny) pages would grow
 * the heap until an OutOfMemoryError took the whole donor down. Every page therefore counts against the heap
 * as well: at most {@link #HEAP_SHARE} of {@code -Xmx}, at {@link #BYTES_PER_PAGE} each.
 */
public final class PageIndexBudget {
    /**
     * Heap charged per page: the ~30 bytes of {@link PageTable}'s arrays and the object table's share, plus the
     * slack of a probe-table rehash (old and new bucket arrays live together for a moment).
     */
    public static final int BYTES_PER_PAGE = 40;
    /** Share of the heap the index may fill; the rest is the application's (REST, Hazelcast, buffers). */
    public static final double HEAP_SHARE = 0.5;

    private PageIndexBudget() {
    }

    /** The page cap for a heap of {@code maxHeapBytes}. */
    public static long forHeap(long maxHeapBytes) {
        return Math.max(1, (long) (maxHeapBytes * HEAP_SHARE) / BYTES_PER_PAGE);
    }

    /** The page cap for this JVM's heap. */
    public static long forThisHeap() {
        return forHeap(Runtime.getRuntime().maxMemory());
    }
}
