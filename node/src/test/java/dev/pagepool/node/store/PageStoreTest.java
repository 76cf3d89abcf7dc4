package dev.pagepool.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PageStoreTest {
    private static final int P = PageStore.PAGE_SIZE;
    private static final int MIB = 1 << 20;

    private PageStore store;
    private Scratch scratch;
    private final ByteBuffer in = ByteBuffer.allocateDirect(P);
    private final ByteBuffer out = ByteBuffer.allocateDirect(P);

    private void open(long capacity, boolean compression) {
        store = new PageStore(new StoreSettings(capacity, MIB, compression));
        scratch = store.newScratch();
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    static byte[] randomPage(long seed) {
        byte[] b = new byte[P];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] textPage(long seed) {
        byte[] b = new byte[P];
        byte[] words = ("page " + seed + " of the quick brown fox; ").getBytes();
        for (int i = 0; i < P; i++) {
            b[i] = words[i % words.length];
        }
        return b;
    }

    static byte[] filledPage(int word) {
        ByteBuffer b = ByteBuffer.allocate(P);
        while (b.hasRemaining()) {
            b.putInt(word);
        }
        return b.array();
    }

    private int put(int pool, boolean persistent, long object, int index, byte[] data) {
        in.clear();
        in.put(0, data);
        return store.put(scratch, pool, persistent, object, index, 0, in, 0);
    }

    private byte[] get(int pool, boolean persistent, long object, int index, boolean exclusive) {
        int r = store.get(scratch, pool, persistent, object, index, exclusive, out, 0);
        if (r == PageStore.MISS) {
            return null;
        }
        byte[] b = new byte[P];
        out.get(0, b);
        return b;
    }

    @Test
    void putThenGetReturnsSameBytesForEveryKindOfPage() {
        open(64 * MIB, true);
        byte[][] pages = {randomPage(1), textPage(2), filledPage(0), filledPage(0xDEADBEEF), textPage(3)};
        for (int i = 0; i < pages.length; i++) {
            assertEquals(PageStore.STORED, put(1, true, 7, i, pages[i]));
        }
        for (int i = 0; i < pages.length; i++) {
            assertArrayEquals(pages[i], get(1, true, 7, i, false), "page " + i);
        }
        StoreStats s = store.stats();
        assertEquals(5, s.pagesPersistent());
        assertEquals(2, s.sameFilledPages());
        assertTrue(s.compressedPages() >= 2, "text pages compress");
    }

    @Test
    void putReplacesOlderVersion() {
        open(64 * MIB, true);
        put(1, true, 1, 1, randomPage(1));
        put(1, true, 1, 1, textPage(2));
        assertArrayEquals(textPage(2), get(1, true, 1, 1, false));
        assertEquals(1, store.stats().pages());
    }

    @Test
    void putAfterRejectedPutNeverReturnsOldData() {
        open(SlabAllocator.SLAB_BYTES, false); // room for 16 raw pages
        int stored = 0;
        while (put(1, true, 1, stored, randomPage(stored)) == PageStore.STORED) {
            stored++;
        }
        assertEquals(16, stored);
        // Index 0 holds D1. With the budget shrunk to nothing, a put of D2 over it must be rejected.
        store.setCapacity(0);
        assertEquals(PageStore.REJECTED, put(1, true, 1, 0, randomPage(999)));
        assertEquals(null, get(1, true, 1, 0, false), "rejected put must not leave D1 readable");
        assertArrayEquals(randomPage(1), get(1, true, 1, 1, false), "other pages stay");
    }

    @Test
    void missStaysMissUntilNewPut() {
        open(64 * MIB, true);
        assertEquals(null, get(1, true, 1, 1, false));
        assertEquals(null, get(1, true, 1, 1, false));
        put(1, true, 1, 1, textPage(1));
        assertArrayEquals(textPage(1), get(1, true, 1, 1, false));
    }

    @Test
    void exclusiveGetFlushesPage() {
        open(64 * MIB, true);
        put(1, true, 1, 1, randomPage(5));
        assertArrayEquals(randomPage(5), get(1, true, 1, 1, true));
        assertEquals(null, get(1, true, 1, 1, false));
        assertEquals(0, store.stats().usedBytes());
    }

    @Test
    void flushObjectMakesAllItsPagesMissAndLeavesOtherObjects() {
        open(64 * MIB, true);
        for (int i = 0; i < 100; i++) {
            put(1, false, 10, i, textPage(i));
            put(1, false, 11, i, textPage(i + 1000));
            put(2, false, 10, i, textPage(i + 2000));
        }
        assertEquals(100, store.flushObject(1, false, 10));
        for (int i = 0; i < 100; i++) {
            assertEquals(null, get(1, false, 10, i, false));
            assertArrayEquals(textPage(i + 1000), get(1, false, 11, i, false));
            assertArrayEquals(textPage(i + 2000), get(2, false, 10, i, false));
        }
        assertEquals(0, store.flushObject(1, false, 10));
    }

    @Test
    void flushPageMakesGetMiss() {
        open(64 * MIB, true);
        put(1, true, 1, 1, randomPage(1));
        assertTrue(store.flushPage(1, true, 1, 1));
        assertFalse(store.flushPage(1, true, 1, 1));
        assertEquals(null, get(1, true, 1, 1, false));
    }

    @Test
    void destroyPoolFreesAllItsMemory() {
        open(64 * MIB, true);
        for (int i = 0; i < 2000; i++) {
            put(3, true, i % 7, i, i % 2 == 0 ? randomPage(i) : textPage(i));
        }
        put(4, true, 1, 1, randomPage(1));
        assertEquals(2000, store.destroyPool(3, true));
        assertEquals(1, store.stats().pages());
        assertEquals(SlabAllocator.SLAB_BYTES, store.stats().usedBytes());
        assertEquals(null, get(3, true, 0, 0, false));
        assertEquals(1, store.destroyPool(4, true));
        assertEquals(0, store.stats().usedBytes());
        assertEquals(0, store.stats().pages());
    }

    @Test
    void destroyPoolLeavesTheOtherKindOfPages() {
        open(64 * MIB, true);
        put(5, true, 1, 1, randomPage(1));
        put(5, false, 1, 1, randomPage(2));
        assertEquals(1, store.destroyPool(5, false));
        assertArrayEquals(randomPage(1), get(5, true, 1, 1, false));
        assertNull(get(5, false, 1, 1, false));
    }

    @Test
    void persistentPagesAreNeverEvictedAndOverflowIsRejected() {
        open(4 * MIB, false);
        Map<Integer, Boolean> stored = new HashMap<>();
        int rejected = 0;
        for (int i = 0; i < 2000; i++) {
            boolean ok = put(1, true, 1, i, randomPage(i)) == PageStore.STORED;
            stored.put(i, ok);
            rejected += ok ? 0 : 1;
        }
        assertTrue(rejected > 0, "4 MiB cannot hold 2000 raw pages");
        for (int i = 0; i < 2000; i++) {
            if (stored.get(i)) {
                assertArrayEquals(randomPage(i), get(1, true, 1, i, false), "acknowledged page " + i);
            } else {
                assertEquals(null, get(1, true, 1, i, false));
            }
        }
        assertTrue(store.stats().usedBytes() <= 4 * MIB);
    }

    @Test
    void persistentPutsEvictEphemeralPagesBeforeBeingRejected() {
        open(2 * MIB, false);
        for (int i = 0; i < 512; i++) {
            put(1, false, 1, i, randomPage(i));
        }
        for (int i = 0; i < 256; i++) {
            assertEquals(PageStore.STORED, put(2, true, 1, i, randomPage(i + 10_000)), "persistent page " + i);
        }
        assertTrue(store.stats().evictions() > 0);
    }

    @Test
    void ephemeralEvictsColdFirst() {
        open(MIB, false); // 256 raw pages
        for (int i = 0; i < 256; i++) {
            assertEquals(PageStore.STORED, put(1, false, 1, i, randomPage(i)));
        }
        for (int i = 0; i < 64; i++) { // pages 0..63 are hot
            get(1, false, 1, i, false);
        }
        for (int i = 256; i < 256 + 64; i++) {
            assertEquals(PageStore.STORED, put(1, false, 1, i, randomPage(i)));
        }
        for (int i = 0; i < 64; i++) {
            assertArrayEquals(randomPage(i), get(1, false, 1, i, false), "hot page " + i + " survived");
        }
        int cold = 0;
        for (int i = 64; i < 256; i++) {
            cold += get(1, false, 1, i, false) == null ? 1 : 0;
        }
        assertEquals(64, cold, "exactly the room needed was taken from cold pages");
    }

    /**
     * The index budget: 32 bytes per page, plus for a persistent page the 8 bytes of the client's version it must
     * hand back (ephemeral pages are never handed back, so they do not carry one).
     */
    private static final long EPHEMERAL_BYTES_PER_PAGE = 32;
    private static final long PERSISTENT_BYTES_PER_PAGE = EPHEMERAL_BYTES_PER_PAGE + 8;

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void zeroPagesUseNoSlabAndOnlyTheirIndexEntry(boolean persistent) {
        open(64 * MIB, true);
        ByteBuffer zero = ByteBuffer.allocateDirect(P);
        int pages = 100_000;
        for (int i = 0; i < pages; i++) {
            assertEquals(PageStore.STORED, store.put(scratch, 1, persistent, i / 1000, i % 1000, i, zero, 0));
        }
        StoreStats s = store.stats();
        assertEquals(0, s.usedBytes());
        assertEquals(0, s.arenaBytes());
        assertEquals(pages, s.sameFilledPages());
        long budget = persistent ? PERSISTENT_BYTES_PER_PAGE : EPHEMERAL_BYTES_PER_PAGE;
        assertTrue(s.metadataBytes() <= budget * pages, s.metadataBytes() / (double) pages + " bytes per zero page");
        assertArrayEquals(filledPage(0), get(1, persistent, 99, 999, false));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void indexMetadataStaysWithinItsBudgetPerPage(boolean persistent) {
        open(256 * MIB, true);
        int pages = 100_000;
        in.put(0, textPage(1));
        for (int i = 0; i < pages; i++) {
            in.putInt(0, i); // distinct pages, all compressible
            assertEquals(PageStore.STORED, store.put(scratch, 1, persistent, i / 500, i % 500, i, in, 0));
        }
        StoreStats s = store.stats();
        assertEquals(pages, s.pages());
        long budget = persistent ? PERSISTENT_BYTES_PER_PAGE : EPHEMERAL_BYTES_PER_PAGE;
        assertTrue(s.metadataBytes() <= budget * pages, s.metadataBytes() / (double) pages + " bytes per page");
    }

    @Test
    void compressiblePagesUseLessMemoryThanRaw() {
        open(64 * MIB, true);
        for (int i = 0; i < 1000; i++) {
            put(1, true, 1, i, textPage(i));
        }
        long compressed = store.stats().usedBytes();
        store.close();
        open(64 * MIB, false);
        for (int i = 0; i < 1000; i++) {
            put(1, true, 1, i, textPage(i));
        }
        assertTrue(compressed * 4 < store.stats().usedBytes(), compressed + " vs " + store.stats().usedBytes());
    }

    @Test
    void capacityShrinkRejectsPersistentPutsAndGrowAcceptsThemAgain() {
        open(8 * MIB, false);
        for (int i = 0; i < 100; i++) {
            put(1, true, 1, i, randomPage(i));
        }
        store.setCapacity(0);
        assertEquals(PageStore.REJECTED, put(1, true, 2, 0, randomPage(1)));
        assertArrayEquals(randomPage(5), get(1, true, 1, 5, false), "shrinking drops no persistent page");
        store.setCapacity(8 * MIB);
        assertEquals(PageStore.STORED, put(1, true, 2, 0, randomPage(1)));
    }

    @Test
    void hotPathAllocatesNothing() {
        open(256 * MIB, true);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        byte[] text = textPage(1);
        byte[] random = randomPage(2);
        // Warm up, including array growth to the working size.
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 20_000; i++) {
                put(1, true, 1, i, (i & 1) == 0 ? text : random);
                store.get(scratch, 1, true, 1, i, false, out, 0);
            }
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 20_000; i++) {
            in.put(0, (i & 1) == 0 ? text : random);
            store.put(scratch, 1, true, 1, i, 0, in, 0);
            store.get(scratch, 1, true, 1, i, false, out, 0);
            store.flushPage(1, true, 1, i);
            store.put(scratch, 1, true, 1, i, 0, in, 0);
        }
        long perOp = (mx.getCurrentThreadAllocatedBytes() - before) / 80_000;
        assertEquals(0, perOp, "bytes allocated per store operation");
    }

    @Test
    void randomOperationsMatchAModel() {
        for (long seed = 1; seed <= 3; seed++) {
            open(2 * MIB, true);
            Random r = new Random(seed);
            Map<Long, byte[]> persistentModel = new HashMap<>();
            Map<Long, byte[]> ephemeralModel = new HashMap<>();
            for (int op = 0; op < 20_000; op++) {
                boolean persistent = r.nextBoolean();
                Map<Long, byte[]> model = persistent ? persistentModel : ephemeralModel;
                long object = r.nextInt(4);
                int index = r.nextInt(300);
                long key = object << 32 | index;
                switch (r.nextInt(6)) {
                    case 0, 1 -> {
                        byte[] data = switch (r.nextInt(3)) {
                            case 0 -> randomPage(r.nextLong());
                            case 1 -> textPage(r.nextInt(1000));
                            default -> filledPage(r.nextInt(3));
                        };
                        if (put(1, persistent, object, index, data) == PageStore.STORED) {
                            model.put(key, data);
                        } else {
                            model.remove(key);
                        }
                    }
                    case 2, 3 -> {
                        boolean exclusive = r.nextInt(4) == 0;
                        byte[] got = get(1, persistent, object, index, exclusive);
                        byte[] expected = model.get(key);
                        if (persistent) {
                            assertArrayEquals(expected, got, "persistent page seed " + seed + " op " + op);
                        } else if (got != null) {
                            assertArrayEquals(expected, got, "ephemeral hit must be the put data");
                        }
                        if (exclusive || (!persistent && got == null)) {
                            model.remove(key);
                        }
                    }
                    case 4 -> {
                        store.flushPage(1, persistent, object, index);
                        model.remove(key);
                    }
                    default -> {
                        if (r.nextInt(20) == 0) {
                            store.flushObject(1, persistent, object);
                            model.keySet().removeIf(k -> (k >>> 32) == object);
                        }
                    }
                }
            }
            StoreStats s = store.stats();
            assertEquals(persistentModel.size(), s.pagesPersistent());
            assertTrue(s.usedBytes() <= s.capacityBytes());
            store.close();
            store = null;
        }
    }

    @Test
    void ephemeralPutIsRejectedOnlyWhenNothingCanBeEvicted() {
        open(SlabAllocator.SLAB_BYTES, false); // 16 raw pages
        for (int i = 0; i < 16; i++) {
            assertEquals(PageStore.STORED, put(1, true, 1, i, randomPage(i)));
        }
        assertEquals(PageStore.REJECTED, put(2, false, 1, 0, randomPage(100)), "persistent pages are not evictable");
        assertTrue(store.flushPage(1, true, 1, 0));
        assertEquals(PageStore.STORED, put(2, false, 1, 0, randomPage(100)));
        assertEquals(PageStore.STORED, put(2, false, 1, 1, randomPage(101)), "evicts the older ephemeral page");
        assertEquals(1, store.stats().evictions());
        assertArrayEquals(randomPage(101), get(2, false, 1, 1, false));
    }

    @Test
    void capacityShrinkMakesEphemeralPutsEvictUntilUseFits() {
        open(4 * MIB, false);
        for (int i = 0; i < 1024; i++) { // exactly the budget in raw pages
            assertEquals(PageStore.STORED, put(1, false, 1, i, randomPage(i)));
        }
        assertEquals(4 * MIB, store.stats().usedBytes());
        assertEquals(0, store.stats().evictions());
        store.setCapacity(MIB);
        assertEquals(4 * MIB, store.stats().usedBytes(), "shrinking alone drops nothing");
        assertEquals(PageStore.STORED, put(1, false, 2, 0, randomPage(7)));
        assertTrue(store.stats().usedBytes() <= MIB, "used " + store.stats().usedBytes());
        assertArrayEquals(randomPage(7), get(1, false, 2, 0, false));
    }

    @Test
    void arenaNeverGrowsPastCapacity() {
        store = new PageStore(new StoreSettings(3 * SlabAllocator.SLAB_BYTES, 32 * MIB, false));
        scratch = store.newScratch();
        int stored = 0;
        while (put(1, true, 1, stored, randomPage(stored)) == PageStore.STORED) {
            stored++;
        }
        assertEquals(48, stored);
        assertEquals(3L * SlabAllocator.SLAB_BYTES, store.stats().arenaBytes());
        store.setCapacity(64 * MIB);
        assertEquals(PageStore.STORED, put(1, true, 1, stored, randomPage(stored)), "grows again after a raise");
        for (int i = 0; i <= stored; i++) {
            assertArrayEquals(randomPage(i), get(1, true, 1, i, false), "page " + i);
        }
    }

    @Test
    void heapBuffersAtOffsetsAreReadAndWrittenWithoutMovingThem() {
        open(64 * MIB, true);
        byte[] text = textPage(9);
        ByteBuffer src = ByteBuffer.allocate(3 * P);
        src.put(100, text).position(5).limit(3 * P - 1);
        assertEquals(PageStore.STORED, store.put(scratch, 1, true, 1, 1, 0, src, 100));
        assertEquals(5, src.position());
        assertEquals(3 * P - 1, src.limit());
        ByteBuffer dst = ByteBuffer.allocate(2 * P + 7).position(3);
        assertEquals(PageStore.HIT, store.get(scratch, 1, true, 1, 1, false, dst, P + 7));
        assertEquals(3, dst.position());
        byte[] back = new byte[P];
        dst.get(P + 7, back);
        assertArrayEquals(text, back);
    }

    @Test
    void badDestinationFailsWithoutConsumingAnExclusiveGet() {
        open(64 * MIB, true);
        put(1, true, 1, 1, randomPage(3));
        ByteBuffer small = ByteBuffer.allocate(P - 1);
        assertThrows(IndexOutOfBoundsException.class, () -> store.get(scratch, 1, true, 1, 1, true, small, 0));
        ByteBuffer readOnly = ByteBuffer.allocate(P).asReadOnlyBuffer();
        assertThrows(IllegalArgumentException.class, () -> store.get(scratch, 1, true, 1, 1, true, readOnly, 0));
        assertArrayEquals(randomPage(3), get(1, true, 1, 1, false));
        assertThrows(IndexOutOfBoundsException.class,
            () -> store.put(scratch, 1, true, 1, 2, 0, ByteBuffer.allocate(P), 1));
    }

    @Test
    void settingsRejectImpossibleSizes() {
        assertThrows(IllegalArgumentException.class, () -> new StoreSettings(-1, MIB, true));
        assertThrows(IllegalArgumentException.class, () -> new StoreSettings(MIB, 3 * SlabAllocator.SLAB_BYTES, true));
        assertThrows(IllegalArgumentException.class, () -> new StoreSettings(MIB, SlabAllocator.SLAB_BYTES / 2, true));
        open(MIB, true);
        assertThrows(IllegalArgumentException.class, () -> store.setCapacity(-1));
    }

    @Test
    void closedStoreAnswersNothing() {
        open(MIB, true);
        put(1, true, 1, 1, randomPage(1));
        store.close();
        assertEquals(0, store.stats().arenaBytes());
        assertThrows(IllegalStateException.class, () -> get(1, true, 1, 1, false));
        assertThrows(IllegalStateException.class, () -> put(1, true, 1, 2, randomPage(2)));
        assertThrows(IllegalStateException.class, () -> store.flushObject(1, true, 1));
        store.close();
    }

    @Test
    void concurrentCallersEachReadBackTheirOwnPages() throws InterruptedException {
        open(64 * MIB, true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[2];
        for (int t = 0; t < threads.length; t++) {
            int pool = t + 1;
            threads[t] = new Thread(() -> {
                try {
                    Scratch own = store.newScratch();
                    ByteBuffer src = ByteBuffer.allocateDirect(P);
                    ByteBuffer dst = ByteBuffer.allocateDirect(P);
                    byte[] back = new byte[P];
                    for (int round = 0; round < 3; round++) {
                        for (int i = 0; i < 2_000; i++) {
                            byte[] page = i % 3 == 0 ? randomPage(pool * 100_000L + i) : textPage(pool * 100_000L + i);
                            src.put(0, page);
                            assertEquals(PageStore.STORED, store.put(own, pool, true, 1, i, 0, src, 0));
                        }
                        for (int i = 0; i < 2_000; i++) {
                            byte[] page = i % 3 == 0 ? randomPage(pool * 100_000L + i) : textPage(pool * 100_000L + i);
                            assertEquals(PageStore.HIT, store.get(own, pool, true, 1, i, round == 2, dst, 0));
                            dst.get(0, back);
                            assertArrayEquals(page, back);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(0, store.stats().pages());
        assertEquals(0, store.stats().usedBytes());
    }
}
