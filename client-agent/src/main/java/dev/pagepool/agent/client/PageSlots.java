package dev.pagepool.agent.client;

import dev.pagepool.protocol.Frame;

/**
 * Where the pages of a vector call live in the caller's memory: one array holding page i at {@code i * 4096},
 * or one array per page. Frames are encoded from, and replies decoded into, these places directly, so that
 * neither the vector calls nor the coalesced single-page calls copy a page into an intermediate array.
 */
final class PageSlots {
    private final byte[] contiguous;
    private final byte[][] separate;

    private PageSlots(byte[] contiguous, byte[][] separate) {
        this.contiguous = contiguous;
        this.separate = separate;
    }

    static PageSlots contiguous(byte[] pages) {
        return new PageSlots(pages, null);
    }

    /** Page i at {@code pages[i][0..4096)}. */
    static PageSlots separate(byte[][] pages) {
        return new PageSlots(null, pages);
    }

    byte[] array(int i) {
        return separate == null ? contiguous : separate[i];
    }

    int offset(int i) {
        return separate == null ? i * Frame.PAGE_BYTES : 0;
    }
}
