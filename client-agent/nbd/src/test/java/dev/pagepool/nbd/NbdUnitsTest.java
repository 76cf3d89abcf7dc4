package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server's parts on their own: span geometry, block locks, the buffer reserve, block I/O over slabs. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NbdUnitsTest {
    @Test
    void spansCoverWholeBlocks() {
        NbdSpan aligned = NbdSpan.of(8192, 8192);
        assertEquals(2, aligned.firstBlock());
        assertEquals(2, aligned.blocks());
        assertTrue(aligned.aligned());
        assertEquals(2, aligned.fullBlocks());

        NbdSpan sector = NbdSpan.of(4096 + 512, 512);
        assertEquals(1, sector.firstBlock());
        assertEquals(1, sector.blocks());
        assertTrue(sector.headPartial());
        assertTrue(sector.tailPartial());
        assertEquals(0, sector.fullBlocks());

        NbdSpan straddle = NbdSpan.of(3584, 4096 + 1024);
        assertEquals(0, straddle.firstBlock());
        assertEquals(3, straddle.blocks());
        assertEquals(3584, straddle.head());
        assertEquals(512, straddle.tailEnd());
        assertEquals(1, straddle.fullFirst());
        assertEquals(1, straddle.fullBlocks());

        NbdSpan headOnly = NbdSpan.of(512, 3584);
        assertTrue(headOnly.headPartial());
        assertFalse(headOnly.tailPartial());
        assertEquals(0, headOnly.fullBlocks());

        NbdSpan huge = NbdSpan.of(0, 0xFFFF_FFFFL);
        assertEquals(1 << 20, huge.blocks());
        assertEquals((1 << 20) - 1, huge.fullBlocks());
    }

    @Test
    void exclusiveHoldsWaitTheirTurnSharedOnesOverlap() {
        BlockLocks locks = new BlockLocks();
        BlockLocks.Hold a = locks.acquire(0, 3, false);
        BlockLocks.Hold b = locks.acquire(2, 5, false);
        assertTrue(a.granted().isDone() && b.granted().isDone(), "whole-block writes share");
        BlockLocks.Hold rmw = locks.acquire(3, 3, true);
        assertFalse(rmw.granted().isDone());
        BlockLocks.Hold later = locks.acquire(3, 4, false);
        assertFalse(later.granted().isDone(), "first come first served behind the waiting exclusive hold");
        BlockLocks.Hold elsewhere = locks.acquire(10, 12, true);
        assertTrue(elsewhere.granted().isDone());
        locks.release(a);
        assertFalse(rmw.granted().isDone());
        locks.release(b);
        assertTrue(rmw.granted().isDone());
        assertFalse(later.granted().isDone());
        locks.release(rmw);
        assertTrue(later.granted().isDone());
        locks.release(later);
        locks.release(elsewhere);
        assertEquals(0, locks.size());
        assertThrows(IllegalStateException.class, () -> locks.release(a));
    }

    @Test
    void theReserveQueuesInOrderAndNeverOverdraws() {
        NbdBufferPool pool = new NbdBufferPool(4 * 8192, 8192);
        assertEquals(4, pool.capacity());
        byte[][] first = new byte[3][];
        assertTrue(pool.take(3, first, () -> { }));
        assertNotNull(first[2]);
        AtomicInteger order = new AtomicInteger();
        int[] grantedAt = new int[2];
        byte[][] big = new byte[4][];
        byte[][] small = new byte[1][];
        assertFalse(pool.take(4, big, () -> grantedAt[0] = order.incrementAndGet()));
        assertFalse(pool.take(1, small, () -> grantedAt[1] = order.incrementAndGet()),
            "a free slab is not handed past a waiting request");
        pool.give(first, 3);
        assertEquals(1, grantedAt[0]);
        assertEquals(0, grantedAt[1]);
        assertEquals(0, pool.available());
        pool.give(big, 4);
        assertEquals(2, grantedAt[1]);
        pool.give(small, 1);
        assertEquals(4, pool.available());
        assertThrows(IllegalArgumentException.class, () -> pool.take(5, new byte[5][], () -> { }));
        assertThrows(IllegalArgumentException.class, () -> new NbdBufferPool(8192, 8192));
    }

    @Test
    void blockIoPatchesPartialBlocksAcrossSlabs() throws Exception {
        MemoryBlockDevice device = new MemoryBlockDevice(64);
        byte[] before = new byte[64 * 4096];
        new Random(1).nextBytes(before);
        System.arraycopy(before, 0, device.bytes(), 0, before.length);
        int slab = 8192;
        NbdBlockIo io = new NbdBlockIo(device, new BlockLocks(), slab);
        // 3 KiB into block 1 to 1 KiB into block 5: five covering blocks over three 2-block slabs
        long offset = 4096 + 3072;
        int length = 4 * 4096 - 2048;
        NbdSpan span = NbdSpan.of(offset, length);
        assertEquals(3, io.spanSlabs(span));
        byte[][] slabs = {new byte[slab], new byte[slab], new byte[slab]};
        byte[] data = new byte[length];
        new Random(2).nextBytes(data);
        for (int i = 0; i < length; i++) {
            int at = span.head() + i;
            slabs[at / slab][at % slab] = data[i];
        }
        io.write(span, slabs, new byte[8192], true).get(5, TimeUnit.SECONDS);
        byte[] expect = before.clone();
        System.arraycopy(data, 0, expect, (int) offset, length);
        assertArrayEquals(expect, device.bytes());
        assertEquals(1, device.flushes.get());

        byte[][] back = {new byte[slab], new byte[slab], new byte[slab]};
        io.read(span, back).get(5, TimeUnit.SECONDS);
        assertArrayEquals(Arrays.copyOfRange(expect, 4096, 4096 + 5 * 4096),
            concat(back, 5 * 4096));

        io.zero(NbdSpan.of(512, 3 * 4096), new byte[8192], false, false).get(5, TimeUnit.SECONDS);
        Arrays.fill(expect, 512, 512 + 3 * 4096, (byte) 0);
        assertArrayEquals(expect, device.bytes());
        assertEquals(1, device.trims.get(), "the two whole blocks in the middle were trimmed");

        io.trim(NbdSpan.of(20 * 4096 + 512, 4096), false).get(5, TimeUnit.SECONDS);
        assertEquals(1, device.trims.get(), "a trim covering no whole block does nothing");
    }

    @Test
    void zeroingGigabytesRunsInBoundedChunks() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<Void> done = NbdChunks.run(0, 1 << 20, 256, 4, (i, first, count) -> {
            calls.incrementAndGet();
            most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            return CompletableFuture.runAsync(inFlight::decrementAndGet);
        });
        done.get(20, TimeUnit.SECONDS);
        assertEquals(4096, calls.get());
        assertTrue(most.get() <= 4);
        // synchronous completion must loop, not recurse
        NbdChunks.run(0, 1L << 24, 1, 1, (i, first, count) -> CompletableFuture.completedFuture(null))
            .get(20, TimeUnit.SECONDS);
        AtomicInteger after = new AtomicInteger();
        CompletableFuture<Void> failed = NbdChunks.run(0, 100, 1, 2, (i, first, count) -> {
            after.incrementAndGet();
            return i == 10 ? CompletableFuture.failedFuture(new NoSpaceException("full")) : CompletableFuture.completedFuture(null);
        });
        assertTrue(failed.isCompletedExceptionally());
        assertEquals(Nbd.NBD_ENOSPC, NbdReplies.errorOf(failed.handle((v, e) -> e).get()));
        assertTrue(after.get() < 100, "stops issuing after a failure");
    }

    private static byte[] concat(byte[][] slabs, int bytes) {
        byte[] out = new byte[bytes];
        int at = 0;
        for (byte[] s : slabs) {
            int n = Math.min(s.length, bytes - at);
            System.arraycopy(s, 0, out, at, n);
            at += n;
        }
        return out;
    }
}
