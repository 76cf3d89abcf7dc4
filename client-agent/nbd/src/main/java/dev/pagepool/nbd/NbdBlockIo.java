package dev.pagepool.nbd;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Byte ranges of the export onto whole blocks of the device. Requests arrive in 512-byte (or finer) pieces,
 * the device takes only 4 KiB blocks: reads fetch the covering blocks, writes that cover a block partly
 * read it first and patch it (read-modify-write) under an exclusive {@link BlockLocks} hold.
 *
 * <p>A request's data lives in slabs of a {@link NbdBufferPool}: the covering blocks laid end to end over
 * {@code slabs[0 ..]}, each slab holding whole blocks, so every device call is one slab's worth. The two edge
 * blocks of a read-modify-write are read into a separate scratch slab (head block at 0, tail block at 4096).
 */
final class NbdBlockIo {
    private static final int BLOCK = BlockDevice.BLOCK_BYTES;
    /** Source of zero blocks for WRITE_ZEROES with NO_HOLE; only ever read, so shared by every request. */
    private static final byte[] ZEROES = new byte[1 << 20];
    private static final int ZERO_CHUNK_BLOCKS = ZEROES.length / BLOCK;
    /** Zero-chunk writes in flight per WRITE_ZEROES: enough to overlap latency, few enough to bound load. */
    private static final int ZERO_WINDOW = 4;

    private final BlockDevice device;
    private final BlockLocks locks;
    private final int slabBytes;
    private final int blocksPerSlab;

    NbdBlockIo(BlockDevice device, BlockLocks locks, int slabBytes) {
        this.device = device;
        this.locks = locks;
        this.slabBytes = slabBytes;
        this.blocksPerSlab = slabBytes / BLOCK;
    }

    /** Slabs holding a span's covering blocks. */
    int spanSlabs(NbdSpan span) {
        return (span.blocks() + blocksPerSlab - 1) / blocksPerSlab;
    }

    /** Fills the span's slabs with its covering blocks; the client's bytes start at {@code span.head()}. */
    CompletableFuture<Void> read(NbdSpan span, byte[][] slabs) {
        return eachSlab(span, slabs, (first, count, slab) -> device.read(first, count, slab, 0));
    }

    /**
     * Writes the client's bytes, already at {@code [head, head + length)} of the slabs. Partial edge blocks are
     * completed from the device first, all under a hold that keeps other writes to those blocks out.
     */
    CompletableFuture<Void> write(NbdSpan span, byte[][] slabs, byte[] scratch, boolean fua) {
        BlockLocks.Hold hold = locks.acquire(span.firstBlock(), span.lastBlock(), !span.aligned());
        CompletableFuture<Void> written = hold.granted().thenCompose(h -> span.aligned()
                ? CompletableFuture.<Void>completedFuture(null)
                : readEdges(span, scratch).thenRun(() -> patchEdges(span, slabs, scratch)))
            .thenCompose(v -> eachSlab(span, slabs, (first, count, slab) -> device.write(first, count, slab, 0)));
        return afterRelease(written, hold, fua);
    }

    /**
     * Zeroes a byte range. Partial edges are read, zeroed in part and written back; whole blocks are written
     * from a zero buffer if the client forbids holes, else trimmed (a trimmed block reads as zeros).
     */
    CompletableFuture<Void> zero(NbdSpan span, byte[] scratch, boolean noHole, boolean fua) {
        BlockLocks.Hold hold = locks.acquire(span.firstBlock(), span.lastBlock(), !span.aligned());
        CompletableFuture<Void> zeroed = hold.granted().thenCompose(h -> {
            CompletableFuture<Void> edges = span.aligned()
                ? CompletableFuture.completedFuture(null)
                : readEdges(span, scratch).thenCompose(v -> writeZeroedEdges(span, scratch));
            CompletableFuture<Void> middle = span.fullBlocks() == 0
                ? CompletableFuture.completedFuture(null)
                : noHole ? writeZeroBlocks(span.fullFirst(), span.fullBlocks())
                : call(() -> device.trim(span.fullFirst(), span.fullBlocks()));
            return CompletableFuture.allOf(edges, middle);
        });
        return afterRelease(zeroed, hold, fua);
    }

    /**
     * Forgets the blocks the range covers entirely. The spec lets a server round a trim inward; partial edge
     * blocks are left alone, since a trim is only a hint and patching them would cost a read-modify-write.
     */
    CompletableFuture<Void> trim(NbdSpan span, boolean fua) {
        if (span.fullBlocks() == 0) {
            return CompletableFuture.completedFuture(null);
        }
        long first = span.fullFirst();
        int count = span.fullBlocks();
        BlockLocks.Hold hold = locks.acquire(first, first + count - 1, false);
        return afterRelease(hold.granted().thenCompose(h -> device.trim(first, count)), hold, fua);
    }

    CompletableFuture<Void> flush() {
        return call(device::flush);
    }

    /** Releases the hold whatever happened, then makes the result durable if the client asked for FUA. */
    private CompletableFuture<Void> afterRelease(CompletableFuture<Void> op, BlockLocks.Hold hold, boolean fua) {
        CompletableFuture<Void> released = op.whenComplete((v, e) -> locks.release(hold));
        return fua ? released.thenCompose(v -> device.flush()) : released;
    }

    private CompletableFuture<Void> readEdges(NbdSpan span, byte[] scratch) {
        CompletableFuture<Void> head = span.headPartial()
            ? call(() -> device.read(span.firstBlock(), 1, scratch, 0))
            : CompletableFuture.completedFuture(null);
        CompletableFuture<Void> tail = span.tailPartial() && span.blocks() > 1
            ? call(() -> device.read(span.lastBlock(), 1, scratch, BLOCK))
            : CompletableFuture.completedFuture(null);
        return CompletableFuture.allOf(head, tail);
    }

    /** Copies the bytes of the edge blocks outside the client's range from the scratch into the slabs. */
    private void patchEdges(NbdSpan span, byte[][] slabs, byte[] scratch) {
        if (span.blocks() == 1) {
            int end = span.head() + (int) span.length();
            System.arraycopy(scratch, 0, slabs[0], 0, span.head());
            System.arraycopy(scratch, end, slabs[0], end, BLOCK - end);
            return;
        }
        if (span.headPartial()) {
            System.arraycopy(scratch, 0, slabs[0], 0, span.head());
        }
        if (span.tailPartial()) {
            long lastAt = (span.spanBytes() - BLOCK);
            byte[] slab = slabs[(int) (lastAt / slabBytes)];
            int at = (int) (lastAt % slabBytes);
            int end = span.tailEnd();
            System.arraycopy(scratch, BLOCK + end, slab, at + end, BLOCK - end);
        }
    }

    private CompletableFuture<Void> writeZeroedEdges(NbdSpan span, byte[] scratch) {
        if (span.blocks() == 1) {
            Arrays.fill(scratch, span.head(), span.head() + (int) span.length(), (byte) 0);
            return call(() -> device.write(span.firstBlock(), 1, scratch, 0));
        }
        CompletableFuture<Void> head = CompletableFuture.completedFuture(null);
        CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
        if (span.headPartial()) {
            Arrays.fill(scratch, span.head(), BLOCK, (byte) 0);
            head = call(() -> device.write(span.firstBlock(), 1, scratch, 0));
        }
        if (span.tailPartial()) {
            Arrays.fill(scratch, BLOCK, BLOCK + span.tailEnd(), (byte) 0);
            tail = call(() -> device.write(span.lastBlock(), 1, scratch, BLOCK));
        }
        return CompletableFuture.allOf(head, tail);
    }

    private CompletableFuture<Void> writeZeroBlocks(long first, int count) {
        return NbdChunks.run(first, count, ZERO_CHUNK_BLOCKS, ZERO_WINDOW,
            (i, chunkFirst, chunkBlocks) -> device.write(chunkFirst, chunkBlocks, ZEROES, 0));
    }

    @FunctionalInterface
    private interface SlabOp {
        CompletableFuture<Void> apply(long firstBlock, int blocks, byte[] slab);
    }

    /** One device call per slab, all at once: a request spans at most the reserve, so this is bounded. */
    private CompletableFuture<Void> eachSlab(NbdSpan span, byte[][] slabs, SlabOp op) {
        int n = spanSlabs(span);
        if (n == 1) {
            return call(() -> op.apply(span.firstBlock(), span.blocks(), slabs[0]));
        }
        CompletableFuture<?>[] parts = new CompletableFuture<?>[n];
        for (int i = 0; i < n; i++) {
            long first = span.firstBlock() + (long) i * blocksPerSlab;
            int count = Math.min(blocksPerSlab, span.blocks() - i * blocksPerSlab);
            byte[] slab = slabs[i];
            parts[i] = call(() -> op.apply(first, count, slab));
        }
        return CompletableFuture.allOf(parts);
    }

    /** A device call whose synchronous throw becomes a failed future, so every failure takes one path. */
    static CompletableFuture<Void> call(Supplier<CompletableFuture<Void>> op) {
        try {
            CompletableFuture<Void> f = op.get();
            return f != null ? f : CompletableFuture.failedFuture(new IllegalStateException("device returned null"));
        } catch (RuntimeException | Error e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
