package dev.pagepool.node.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The arena's next chunk is zeroed ahead, off the thread of the put that needs it, and never takes the store past
 * its budget.
 */
class ArenaPrefetchTest {
    private static final int P = PageStore.PAGE_SIZE;
    private static final int MIB = 1 << 20;
    /** Raw pages per 1 MiB chunk: compression is off, so every page takes a 4 KiB slot. */
    private static final int PAGES_PER_CHUNK = MIB / P;

    private PageStore store;
    private Scratch scratch;
    private final ByteBuffer page = ByteBuffer.allocateDirect(P);
    private final ByteBuffer out = ByteBuffer.allocateDirect(P);
    private int nextIndex;

    private void open(long capacity) {
        store = new PageStore(new StoreSettings(capacity, MIB, false));
        scratch = store.newScratch();
    }

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    private int putPages(int n) {
        int stored = 0;
        for (int i = 0; i < n; i++) {
            int index = nextIndex++;
            byte[] data = PageStoreTest.randomPage(index);
            page.clear();
            page.put(data).flip();
            stored += store.put(scratch, 1, true, 7, index, 1, page, 0) == PageStore.STORED ? 1 : 0;
        }
        return stored;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void everyGrowthFindsItsChunkZeroedAheadWhenThePrefetchHadTimeToRun() throws InterruptedException {
        open(16L * MIB);
        for (int chunk = 1; chunk <= 4; chunk++) {
            await(() -> store.stats().arenaReadyBytes() == MIB, "chunk " + chunk + " is ready");
            assertEquals(PAGES_PER_CHUNK, putPages(PAGES_PER_CHUNK));
            assertEquals((long) chunk * MIB, store.arenaBytes());
        }
        assertEquals(0, store.stats().arenaInlineGrowths(), "no put zeroed a chunk itself");
        for (int index = 0; index < nextIndex; index++) {
            out.clear();
            assertEquals(PageStore.HIT, store.get(scratch, 1, true, 7, index, false, out, 0));
            byte[] back = new byte[P];
            out.get(0, back);
            assertArrayEquals(PageStoreTest.randomPage(index), back, "page " + index);
        }
    }

    @Test
    void aBudgetCutDropsTheReadyChunkAndARaiseMakesOneReadyAgain() throws InterruptedException {
        open(8L * MIB);
        await(() -> store.stats().arenaReadyBytes() == MIB, "the first chunk is ready");
        putPages(PAGES_PER_CHUNK);
        await(() -> store.stats().arenaReadyBytes() == MIB, "the second chunk is ready");

        store.setCapacity(store.arenaBytes());
        assertEquals(0, store.stats().arenaReadyBytes(), "no room beyond the arena: the ready chunk is freed at once");
        assertEquals(store.arenaBytes(), store.residentBytes());

        store.setCapacity(8L * MIB);
        await(() -> store.stats().arenaReadyBytes() == MIB, "a chunk is ready again after the raise");
        assertEquals(store.arenaBytes() + MIB, store.residentBytes());
    }

    @Test
    void theStoreWithItsReadyChunkNeverHoldsMoreThanItsBudget() throws InterruptedException {
        long budget = 2L * MIB + MIB / 2;
        open(budget);
        int stored;
        do {
            await(() -> store.stats().arenaReadyBytes() > 0 || budget - store.arenaBytes() < SlabAllocator.SLAB_BYTES,
                "the next chunk is ready");
            assertTrue(store.residentBytes() <= budget, "resident " + store.residentBytes() + " within " + budget);
            stored = putPages(PAGES_PER_CHUNK / 4);
        } while (stored > 0);
        assertEquals(budget, store.arenaBytes(), "the last chunk was cut short to the budget");
        assertEquals(0, store.stats().arenaReadyBytes());
        assertEquals(0, store.stats().arenaInlineGrowths(), "the short last chunk was made ready too");
    }

    @Test
    void closingFreesTheReadyChunk() throws InterruptedException {
        open(8L * MIB);
        await(() -> store.stats().arenaReadyBytes() == MIB, "the first chunk is ready");
        store.close();
        assertEquals(0, store.residentBytes());
        store = null;
    }
}
