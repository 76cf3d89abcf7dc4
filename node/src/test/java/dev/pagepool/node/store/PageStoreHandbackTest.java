package dev.pagepool.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The store's side of hand-back and of the watermarks: copy out, release only what is unchanged, evict, trim. */
class PageStoreHandbackTest {
    private static final int P = PageStore.PAGE_SIZE;
    private static final int MIB = 1 << 20;
    /** The PUT entry stride of a HANDBACK frame; data at offset 24 of each entry. */
    private static final int STRIDE = 24 + P;
    /** Every pool id the tests use, sorted: a link whose client owns them all. */
    private static final int[] ALL_POOLS = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    private final PageStore store = new PageStore(new StoreSettings(64L * MIB, MIB, true));
    private final Scratch scratch = store.newScratch();
    private final ByteBuffer page = ByteBuffer.allocateDirect(P);
    private final ByteBuffer frame = ByteBuffer.allocateDirect(64 * STRIDE);
    private final HandbackPages batch = new HandbackPages(64);

    @AfterEach
    void close() {
        store.close();
    }

    private void put(int pool, boolean persistent, long object, int index, byte[] data) {
        put(pool, persistent, object, index, data, 0);
    }

    private void put(int pool, boolean persistent, long object, int index, byte[] data, long version) {
        page.put(0, data);
        assertEquals(PageStore.STORED, store.put(scratch, pool, persistent, object, index, version, page, 0));
    }

    private boolean present(int pool, long object, int index) {
        return store.get(scratch, pool, true, object, index, false, page, 0) == PageStore.HIT;
    }

    private byte[] sent(int i) {
        byte[] data = new byte[P];
        frame.get(24 + i * STRIDE, data);
        return data;
    }

    private int take(boolean secondChance) {
        return store.takeForHandback(ALL_POOLS, ALL_POOLS.length, secondChance, batch, frame, 24, STRIDE);
    }

    @Test
    void takenPagesArriveUncompressedAndStayUntilReleased() {
        for (int i = 0; i < 10; i++) {
            put(1, true, 4, i, PageStoreTest.textPage(i)); // compressible: stored LZ4, sent raw
        }
        assertEquals(10, take(true));
        assertEquals(1, batch.pool());
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(PageStoreTest.textPage(batch.index(i)), sent(i));
            assertTrue(present(1, 4, batch.index(i)), "nothing is freed before the acknowledgement");
        }
        assertEquals(10, store.handbackInFlight());
        assertEquals(0, take(true), "pages in flight are not sent twice");
        for (int i = 0; i < 10; i++) {
            assertTrue(store.releaseIfUnchanged(1, 4, batch.index(i), batch.token(i)));
        }
        assertEquals(0, store.persistentPages());
        assertEquals(0, store.handbackInFlight());
    }

    @Test
    void aHandedBackPageCarriesTheVersionOfItsLastPut() {
        // Raw, compressed and same-filled pages (the last take no slab, and keep their version all the same),
        // each put twice: the version that comes back is the second one's, whatever the first was.
        byte[][] pages = {PageStoreTest.randomPage(7), PageStoreTest.textPage(7), PageStoreTest.filledPage(0),
            PageStoreTest.filledPage(0x5A5A5A5A)};
        long[] versions = {-1L, Long.MIN_VALUE, 0x0123_4567_89AB_CDEFL, 1L};
        for (int i = 0; i < pages.length; i++) {
            put(1, true, 9, i, PageStoreTest.randomPage(100 + i), 1000 + i);
            put(1, true, 9, i, pages[i], versions[i]);
        }
        assertEquals(pages.length, take(false));
        for (int i = 0; i < pages.length; i++) {
            int index = batch.index(i);
            assertEquals(versions[index], batch.version(i), "version of page " + index);
            assertArrayEquals(pages[index], sent(i), "data of page " + index);
        }
        assertEquals(2, store.stats().sameFilledPages());
    }

    @Test
    void aPutAfterARejectedOneStartsAFreshVersion() {
        put(1, true, 9, 0, PageStoreTest.randomPage(1), 11);
        assertTrue(store.flushPage(1, true, 9, 0)); // what a rejected put does to the older version
        put(1, true, 9, 0, PageStoreTest.randomPage(2), 12);
        assertEquals(1, take(false));
        assertEquals(12, batch.version(0));
    }

    @Test
    void releaseAfterAReplacingPutKeepsTheNewerVersionEvenInTheSameSlot() {
        put(1, true, 4, 0, PageStoreTest.randomPage(1));
        assertEquals(1, take(true));
        long token = batch.token(0);
        // Same handle, same size class: the replacement lands in the very slot (and entry) just freed.
        put(1, true, 4, 0, PageStoreTest.randomPage(2));
        assertFalse(store.releaseIfUnchanged(1, 4, 0, token));
        assertTrue(present(1, 4, 0));
        assertArrayEquals(PageStoreTest.randomPage(2), bytes(page));
        assertEquals(0, store.handbackInFlight());
    }

    @Test
    void releaseAfterAFlushFreesNothingAndForgottenPagesAreOfferedAgain() {
        put(1, true, 4, 0, PageStoreTest.randomPage(1));
        put(1, true, 4, 1, PageStoreTest.randomPage(2));
        assertEquals(2, take(true));
        long token0 = batch.token(0);
        long index0 = batch.index(0);
        store.flushPage(1, true, 4, (int) index0);
        assertFalse(store.releaseIfUnchanged(1, 4, (int) index0, token0));
        store.forgetHandback(1, 4, batch.index(1), batch.token(1));
        assertEquals(1, take(true), "a forgotten page goes out again");
        assertNotEquals(0, batch.token(0));
    }

    @Test
    void pagesReadSinceTheHandPassedGoLastUnderSecondChance() {
        for (int i = 0; i < 8; i++) {
            put(1, true, 4, i, PageStoreTest.randomPage(i));
        }
        for (int i = 0; i < 4; i++) {
            present(1, 4, i); // hot
        }
        HandbackPages first = new HandbackPages(4);
        assertEquals(4, store.takeForHandback(ALL_POOLS, ALL_POOLS.length, true, first, frame, 16, STRIDE));
        Set<Integer> cold = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            cold.add(first.index(i));
        }
        assertEquals(Set.of(4, 5, 6, 7), cold, "the cold half goes first");
    }

    @Test
    void oneFrameCarriesOnePoolAndOnlyEligiblePools() {
        for (int i = 0; i < 6; i++) {
            put(1 + i % 3, true, 4, i, PageStoreTest.randomPage(i)); // pools 1, 2, 3 interleaved
        }
        Set<Integer> pools = new HashSet<>();
        int total = 0;
        int[] notThree = {1, 2};
        for (int n; (n = store.takeForHandback(notThree, notThree.length, false, batch, frame, 16, STRIDE)) > 0; ) {
            for (int i = 0; i < n; i++) {
                assertNotEquals(3, batch.pool());
            }
            pools.add(batch.pool());
            total += n;
        }
        assertEquals(Set.of(1, 2), pools);
        assertEquals(4, total);
    }

    @Test
    void ephemeralPutsAboveTheirLimitRecycleEphemeralPagesInsteadOfTakingSlabs() {
        store.setEphemeralLimit(64 * 1024); // one slab
        for (int i = 0; i < 100; i++) {
            put(9, false, 1, i, PageStoreTest.randomPage(i));
        }
        assertEquals(64 * 1024, store.usedBytes());
        assertEquals(16, store.stats().pagesEphemeral());
        put(1, true, 1, 0, PageStoreTest.randomPage(1000));
        assertEquals(2 * 64 * 1024, store.usedBytes(), "persistent puts are not held to the ephemeral limit");
    }

    @Test
    void evictEphemeralStopsAtTheTargetAndANegativeTargetDropsAll() {
        for (int i = 0; i < 64; i++) {
            put(9, false, 1, i, PageStoreTest.randomPage(i));
        }
        assertEquals(4 * 64 * 1024, store.usedBytes());
        store.evictEphemeral(2 * 64 * 1024, Integer.MAX_VALUE);
        assertTrue(store.usedBytes() <= 2 * 64 * 1024);
        assertTrue(store.stats().pagesEphemeral() > 0);
        store.evictEphemeral(-1, Integer.MAX_VALUE);
        assertEquals(0, store.stats().pagesEphemeral());
        assertEquals(0, store.usedBytes());
    }

    @Test
    void trimGivesEmptyChunksBackOnlyWhenTheArenaIsAboveTheBudget() {
        for (int i = 0; i < 600; i++) { // 2.3 MiB raw: three 1 MiB chunks
            put(1, true, 1, i, PageStoreTest.randomPage(i));
        }
        assertEquals(3L * MIB, store.arenaBytes());
        for (int i = 0; i < 600; i++) {
            store.flushPage(1, true, 1, i);
        }
        assertEquals(0, store.trimArena(), "within the budget the arena is kept for later puts");
        store.setCapacity(MIB);
        assertEquals(2L * MIB, store.trimArena());
        assertEquals(MIB, store.arenaBytes());
        store.setCapacity(64L * MIB);
        for (int i = 0; i < 600; i++) {
            put(1, true, 1, i, PageStoreTest.randomPage(i)); // the holes are filled again
        }
        for (int i = 0; i < 600; i++) {
            assertTrue(present(1, 1, i));
            assertArrayEquals(PageStoreTest.randomPage(i), bytes(page));
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] data = new byte[P];
        b.get(0, data);
        return data;
    }

    /** Puts a distinct slab page (not same-filled) of a persistent pool. */
    private void putDistinct(int pool, long object, int index) {
        page.putInt(0, pool);
        page.putInt(4, index);
        page.putLong(8, object + 1);
        assertEquals(PageStore.STORED, store.put(scratch, pool, true, object, index, 0, page, 0));
    }

    private int takeOf(int... pools) {
        return store.takeForHandback(pools, pools.length, true, batch, frame, 24, STRIDE);
    }

    /** Many owners' pages, one page table: 100 pools of 100 pages. */
    private void fillOtherOwners() {
        for (int pool = 1; pool <= 100; pool++) {
            for (int i = 0; i < 100; i++) {
                putDistinct(pool, 7, i);
            }
        }
    }

    /**
     * Every connected owner's link looks whenever a frame comes free, under the store's lock: a look that finds
     * nothing must examine no entry, or many owners stall every put and get.
     */
    @Test
    void aLookWithNothingToTakeExaminesNoEntryHoweverManyOwnersThereAre() {
        fillOtherOwners();
        int few = 1000;
        putDistinct(few, 1, 0);
        putDistinct(few, 1, 1);
        int none = 2000;

        assertEquals(2, takeOf(few), "the owner with two pages gets both");
        long examined = store.handbackEntriesExamined();
        for (int look = 0; look < 1000; look++) {
            assertEquals(0, takeOf(few), "its two pages are in flight");
            assertEquals(0, takeOf(none), "an owner with no page has nothing to take");
        }
        assertEquals(examined, store.handbackEntriesExamined(),
            "2000 looks that found nothing examined entries of a table of " + store.persistentPages() + " pages");
    }

    @Test
    void aLookEndsOnceItHasTakenEveryPageThereIs() {
        putDistinct(1000, 1, 0); // the first entry
        fillOtherOwners();
        long before = store.handbackEntriesExamined();
        assertEquals(1, takeOf(1000));
        long examined = store.handbackEntriesExamined() - before;
        assertTrue(examined <= 2, "one page found at the hand cost " + examined + " entries, not a lap of the table");
        store.forgetHandback(1000, 1, 0, batch.token(0));
        assertEquals(1, takeOf(1000), "a forgotten page can be taken again");
    }
}
