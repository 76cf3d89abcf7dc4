package dev.pagepool.node.store;

/**
 * How a page store is sized.
 *
 * @param capacityBytes RAM budget for page data: slab bytes in use never exceed it
 * @param chunkBytes    size of the direct buffers the arena grows by; a power of two, a multiple of the slab
 * @param compression   whether pages are LZ4-compressed when that saves a size class
 * @param maxPages      pages the index may hold, whatever their size (see {@link PageIndexBudget})
 */
public record StoreSettings(long capacityBytes, int chunkBytes, boolean compression, long maxPages) {
    /** With the page cap this JVM's heap allows. */
    public StoreSettings(long capacityBytes, int chunkBytes, boolean compression) {
        this(capacityBytes, chunkBytes, compression, PageIndexBudget.forThisHeap());
    }

    public StoreSettings {
        if (maxPages < 1) {
            throw new IllegalArgumentException("maxPages must be at least 1, got " + maxPages);
        }
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("capacity must not be negative, got " + capacityBytes);
        }
        if (chunkBytes < SlabAllocator.SLAB_BYTES || Integer.bitCount(chunkBytes) != 1) {
            throw new IllegalArgumentException("chunk must be a power of two of at least " + SlabAllocator.SLAB_BYTES
                + " bytes, got " + chunkBytes);
        }
    }
}
