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

    /**
     * One page per object: the object table's share is more than the page's 40 bytes cover, so counting pages alone
     * would let the heap run out before the cap. The objects count against the same bytes.
     */
    @Test
    void onePagePerObjectCountsTheObjectsAgainstTheCap() {
        int stored = 0;
        while (store.put(scratch, 1, true, stored, 0, 0, zero, 0) == PageStore.STORED) {
            stored++;
            assertTrue(stored <= MAX_PAGES, "more pages than the cap");
        }
        // 40 bytes a page and 64 an object beyond the 64 the table starts with, within 1,000 x 40 bytes.
        long expected = (MAX_PAGES * PageIndexBudget.BYTES_PER_PAGE + 64L * PageIndexBudget.BYTES_PER_OBJECT)
            / (PageIndexBudget.BYTES_PER_PAGE + PageIndexBudget.BYTES_PER_OBJECT);
        assertEquals(expected, stored, "pages of an object each");
        assertEquals(1, store.indexFullRejections(), "the first page beyond was rejected, and counted");
        assertEquals(1, store.flushObject(1, true, 1), "a flushed object gives back its page and itself");
        assertEquals(PageStore.STORED, store.put(scratch, 1, true, 0, 1, 0, zero, 0),
            "a page of an object that is there already needs room for itself only");
        assertEquals(PageStore.REJECTED, store.put(scratch, 1, true, 1_000_000, 0, 0, zero, 0),
            "what is left is too little for a page and its object");
        assertEquals(1, store.flushObject(1, true, 2));
        assertEquals(PageStore.STORED, store.put(scratch, 1, true, 1_000_000, 0, 0, zero, 0),
            "a second flushed object makes room for a new one");
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
        // The figure the README gives: half the heap at 40 bytes a page, 3.3 million pages with 256 MiB (objects
        // of many pages each; one page per object holds 40 / 104 of it).
        assertEquals(3_355_443, PageIndexBudget.forHeap(256L << 20));
    }
}
