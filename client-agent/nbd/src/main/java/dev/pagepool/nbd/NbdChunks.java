package dev.pagepool.nbd;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a block operation over a long range as fixed-size chunks, a few at a time. Zeroing gigabytes must not
 * issue a million device writes at once, nor recurse once per chunk when the device completes synchronously;
 * this runner loops instead of recursing and stops issuing at the first failure.
 */
final class NbdChunks {
    @FunctionalInterface
    interface ChunkOp {
        CompletableFuture<Void> apply(int index, long firstBlock, int blocks);
    }

    private final long firstBlock;
    private final long blocks;
    private final int chunkBlocks;
    private final int chunks;
    private final ChunkOp op;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private NbdChunks(long firstBlock, long blocks, int chunkBlocks, ChunkOp op) {
        this.firstBlock = firstBlock;
        this.blocks = blocks;
        this.chunkBlocks = chunkBlocks;
        this.chunks = (int) ((blocks + chunkBlocks - 1) / chunkBlocks);
        this.op = op;
    }

    /** Applies {@code op} to each chunk of {@code [firstBlock, firstBlock + blocks)}, at most {@code window} at once. */
    static CompletableFuture<Void> run(long firstBlock, long blocks, int chunkBlocks, int window, ChunkOp op) {
        NbdChunks run = new NbdChunks(firstBlock, blocks, chunkBlocks, op);
        int n = Math.min(window, run.chunks);
        if (n == 0) {
            return CompletableFuture.completedFuture(null);
        }
        run.workers.set(n);
        for (int i = 0; i < n; i++) {
            run.work();
        }
        return run.done;
    }

    private void work() {
        while (true) {
            int i = next.getAndIncrement();
            if (i >= chunks || failure.get() != null) {
                if (workers.decrementAndGet() == 0) {
                    Throwable t = failure.get();
                    if (t == null) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(t);
                    }
                }
                return;
            }
            long first = firstBlock + (long) i * chunkBlocks;
            int count = (int) Math.min(chunkBlocks, blocks - (long) i * chunkBlocks);
            CompletableFuture<Void> f = NbdBlockIo.call(() -> op.apply(i, first, count));
            if (!f.isDone()) {
                f.whenComplete((v, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                    work();
                });
                return;
            }
            if (f.isCompletedExceptionally()) {
                f.whenComplete((v, e) -> failure.compareAndSet(null, e));
            }
        }
    }
}
