package dev.pagepool.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The index is bounded whatever the pages are: same-filled pages take no slab, so only the page cap stops a
 * flood of them from growing the heap without end.
 */
class PageIndexLimitTest {
    private static final int P = PageStore.PAGE_SIZE;
    private static final long MAX_PAGES = 1000;
    private final PageStore store = new PageStore(new StoreSettings(64L << 20, 1 << 20, true, MAX_PAGES));
    private final Scratch scratch = store.newScratch();
    private final ByteBuffer zero = ByteBuffer.allocateDirect(P);

    @AfterEach
    void close() {
        store.close();
    }

    private int put(int pool, boolean persistent, int index) {
        return store.put(scratch, pool, persistent, 1, index, 0, zero, 0);
    }

    @Test
    void aFloodOfZeroPagesIsRejectedAtThePageCap() {
        for (int i = 0; i < MAX_PAGES; i++) {
            assertEquals(PageStore.STORED, put(1, true, i));
        }
        assertEquals(0, store.usedBytes(), "zero pages take no slab: the budget alone would never stop them");
        for (int i = 0; i < 100; i++) {
            assertEquals(PageStore.REJECTED, put(1, true, (int) MAX_PAGES + i));
        }
        assertEquals(100, store.indexFullRejections());
        assertEquals(MAX_PAGES, store.stats().pages());
        assertEquals(PageStore.STORED, put(1, true, 0), "replacing a page does not grow the index");
        assertTrue(store.flushPage(1, true, 1, 1));
        assertEquals(PageStore.STORED, put(1, true, (int) MAX_PAGES), "a flushed page makes room");
    }

    @Test
    void atThePageCapEphemeralPagesMakeRoomAndPersistentOnesNever() {
        for (int i = 0; i < MAX_PAGES / 2; i++) {
            assertEquals(PageStore.STORED, put(1, true, i));
        }
        for (int i = 0; i < MAX_PAGES / 2; i++) {
            assertEquals(PageStore.STORED, put(2, false, i));
        }
        assertEquals(PageStore.STORED, put(1, true, (int) MAX_PAGES), "a cold ephemeral page made room");
        assertEquals(PageStore.STORED, put(2, false, (int) MAX_PAGES), "so does an ephemeral put");
        assertEquals(MAX_PAGES, store.stats().pages());
        assertEquals(MAX_PAGES / 2 + 1, store.stats().pagesPersistent(), "no persistent page was dropped");
    }

    @Test
    void pagesAreCountedPerPoolForClientLimits() {
        for (int i = 0; i < 10; i++) {
            put(1, true, i);
            put(2, false, i);
        }
        store.flushPage(1, true, 1, 0);
        assertEquals(9, store.pagesInPools(new int[] {1}, 1));
        assertEquals(19, store.pagesInPools(new int[] {1, 2, 3}, 3));
        store.destroyPool(2, false);
        assertEquals(9, store.pagesInPools(new int[] {1, 2}, 2));
    }

    @Test
    void theDefaultCapFollowsTheHeap() {
        // The figure the README gives: half the heap at 40 bytes a page, 3.3 million pages with 256 MiB.
        assertEquals(3_355_443, PageIndexBudget.forHeap(256L << 20));
    }
}
