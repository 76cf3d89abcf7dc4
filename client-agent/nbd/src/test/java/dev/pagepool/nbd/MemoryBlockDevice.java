package dev.pagepool.nbd;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;

/**
 * A {@link BlockDevice} in a byte array, for tests. Synchronous by default; with {@link #async} each operation
 * completes on a small pool after a random pause of up to the given microseconds, so completions come back
 * out of order and on foreign threads, as from the cluster. Blocks can be made to fail reads or writes.
 */
final class MemoryBlockDevice implements BlockDevice, AutoCloseable {
    private final byte[] data;
    private final long blocks;
    private ExecutorService executor;
    private int maxDelayMicros;
    private volatile LongPredicate failing = b -> false;
    private volatile boolean failAsNoSpace;
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger trims = new AtomicInteger();
    final AtomicLong blocksWritten = new AtomicLong();

    MemoryBlockDevice(long blocks) {
        this.blocks = blocks;
        this.data = new byte[Math.toIntExact(blocks * BLOCK_BYTES)];
    }

    /** Completes operations on other threads, after up to {@code maxDelayMicros}. */
    MemoryBlockDevice async(int threads, int maxDelayMicros) {
        this.executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "memory-device");
            t.setDaemon(true);
            return t;
        });
        this.maxDelayMicros = maxDelayMicros;
        return this;
    }

    /** Operations touching a block matching {@code blocks} fail: with NoSpaceException or with an I/O error. */
    void failBlocks(LongPredicate blocks, boolean noSpace) {
        this.failAsNoSpace = noSpace;
        this.failing = blocks;
    }

    byte[] bytes() {
        return data;
    }

    @Override
    public long blocks() {
        return blocks;
    }

    @Override
    public CompletableFuture<Void> read(long first, int count, byte[] dst, int offset) {
        return run(first, count, () -> {
            synchronized (data) {
                System.arraycopy(data, (int) (first * BLOCK_BYTES), dst, offset, count * BLOCK_BYTES);
            }
        });
    }

    @Override
    public CompletableFuture<Void> write(long first, int count, byte[] src, int offset) {
        return run(first, count, () -> {
            synchronized (data) {
                System.arraycopy(src, offset, data, (int) (first * BLOCK_BYTES), count * BLOCK_BYTES);
            }
            blocksWritten.addAndGet(count);
        });
    }

    @Override
    public CompletableFuture<Void> trim(long first, int count) {
        return run(first, count, () -> {
            synchronized (data) {
                java.util.Arrays.fill(data, (int) (first * BLOCK_BYTES), (int) ((first + count) * BLOCK_BYTES), (byte) 0);
            }
            trims.incrementAndGet();
        });
    }

    @Override
    public CompletableFuture<Void> flush() {
        return run(0, 0, flushes::incrementAndGet);
    }

    private CompletableFuture<Void> run(long first, int count, Runnable op) {
        if (first < 0 || count < 0 || first + count > blocks) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("blocks " + first + "+" + count));
        }
        Runnable checked = () -> {
            for (long b = first; b < first + count; b++) {
                if (failing.test(b)) {
                    throw failAsNoSpace ? new NoSpaceException("block " + b) : new IllegalStateException("block " + b);
                }
            }
            op.run();
        };
        if (executor == null) {
            try {
                checked.run();
                return CompletableFuture.completedFuture(null);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return CompletableFuture.runAsync(() -> {
            if (maxDelayMicros > 0) {
                try {
                    TimeUnit.MICROSECONDS.sleep(ThreadLocalRandom.current().nextInt(maxDelayMicros + 1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            checked.run();
        }, executor);
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
