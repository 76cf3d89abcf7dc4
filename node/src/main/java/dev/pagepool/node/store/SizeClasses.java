package dev.pagepool.node.store;

/**
 * Slot sizes for stored pages: every multiple of {@link #STEP_BYTES} up to a whole page. A 64-byte step
 * wastes 32 bytes per page on average (under 1% of a raw page, about 2% of a page compressed 2:1) while
 * keeping the number of classes, and so the number of partly-filled slabs, at 64.
 */
final class SizeClasses {
    static final int STEP_BYTES = 64;
    static final int COUNT = PageStore.PAGE_SIZE / STEP_BYTES;

    private SizeClasses() {
    }

    /** The class that holds {@code bytes} (1..4096). */
    static int classOf(int bytes) {
        return (bytes + STEP_BYTES - 1) / STEP_BYTES - 1;
    }

    static int slotBytes(int sizeClass) {
        return (sizeClass + 1) * STEP_BYTES;
    }
}
