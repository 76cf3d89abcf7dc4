package dev.pagepool.client;

import dev.pagepool.protocol.Frame;

/**
 * Where the pages of a vector call live in the caller's memory: one array holding page i at
 * {@code base + i * 4096}, one array holding page i at {@code offsets[i]}, or one array per page (at offset 0
 * or at {@code offsets[i]}). Frames are
 * encoded from, and replies decoded into, these places directly, so neither the vector calls, the coalesced
 * single-page calls nor the swap store copy a page into an intermediate array.
 */
public final class PageSlots {
    private final byte[] one;
    private final int base;
    private final int[] offsets;
    private final byte[][] separate;

    private PageSlots(byte[] one, int base, int[] offsets, byte[][] separate) {
        this.one = one;
        this.base = base;
        this.offsets = offsets;
        this.separate = separate;
    }

    public static PageSlots contiguous(byte[] pages) {
        return new PageSlots(pages, 0, null, null);
    }

    /** Page i at {@code pages[base + i * 4096]}. */
    public static PageSlots contiguous(byte[] pages, int base) {
        return new PageSlots(pages, base, null, null);
    }

    /** Page i at {@code pages[offsets[i]]}. */
    public static PageSlots scattered(byte[] pages, int[] offsets) {
        return new PageSlots(pages, 0, offsets, null);
    }

    /** Page i at {@code pages[i][0..4096)}. */
    public static PageSlots separate(byte[][] pages) {
        return new PageSlots(null, 0, null, pages);
    }

    /** Page i at {@code pages[i][offsets[i]..+4096)}. */
    public static PageSlots separate(byte[][] pages, int[] offsets) {
        return new PageSlots(null, 0, offsets, pages);
    }

    byte[] array(int i) {
        return separate == null ? one : separate[i];
    }

    int offset(int i) {
        if (offsets != null) {
            return offsets[i];
        }
        return separate != null ? 0 : base + i * Frame.PAGE_BYTES;
    }
}
