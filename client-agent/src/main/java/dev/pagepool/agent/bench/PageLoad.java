package dev.pagepool.agent.bench;

import dev.pagepool.agent.client.PagePoolClient;
import dev.pagepool.agent.client.PageStatus;
import dev.pagepool.agent.client.PoolRef;
import dev.pagepool.protocol.Frame;
import java.util.BitSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.HdrHistogram.Histogram;

/**
 * A bounded load: every thread puts its share of {@code pages} pages in vector calls of {@code batch}, then
 * gets them all back, optionally checking each byte. Latency is per request (per vector call), recorded in
 * HdrHistogram; with batch 1 that is per page. Each thread works on its own object id, so threads never
 * touch each other's pages, and every page's content is regenerated for the check rather than kept.
 */
public final class PageLoad {
    private static final long HISTOGRAM_MAX_US = 60_000_000;

    private final PagePoolClient client;
    private final PoolRef pool;
    private final String poolKind;
    private final PageContent content;
    private final double compressible;

    public PageLoad(PagePoolClient client, PoolRef pool, String poolKind, double compressible) {
        this.client = client;
        this.pool = pool;
        this.poolKind = poolKind;
        this.compressible = compressible;
        this.content = new PageContent(compressible);
    }

    /** Runs both phases; {@code progress} is told of every page done (puts and gets alike). */
    public LoadResult run(long pages, int batch, int threads, boolean verify, LongConsumer progress) throws Exception {
        int perThread = (int) (pages / threads);
        long total = (long) perThread * threads;
        BitSet[] stored = new BitSet[threads];
        Histogram putLatency = new Histogram(HISTOGRAM_MAX_US, 3);
        Histogram getLatency = new Histogram(HISTOGRAM_MAX_US, 3);
        AtomicLong rejected = new AtomicLong();
        AtomicLong verified = new AtomicLong();
        AtomicLong mismatches = new AtomicLong();
        AtomicLong missing = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long t0 = System.nanoTime();
            runPhase(pool, threads, t -> {
                Histogram h = new Histogram(HISTOGRAM_MAX_US, 3);
                stored[t] = new BitSet(perThread);
                long[] objects = new long[batch];
                int[] indexes = new int[batch];
                byte[] data = new byte[batch * Frame.PAGE_BYTES];
                long object = t + 1;
                java.util.Arrays.fill(objects, object);
                for (int start = 0; start < perThread; start += batch) {
                    int n = Math.min(batch, perThread - start);
                    for (int i = 0; i < n; i++) {
                        indexes[i] = start + i;
                        content.fill(object, start + i, data, i * Frame.PAGE_BYTES);
                    }
                    long s = System.nanoTime();
                    PageStatus[] st = client.putBatch(this.pool, objects, indexes, data, n);
                    h.recordValue(Math.min(HISTOGRAM_MAX_US, (System.nanoTime() - s) / 1000));
                    for (int i = 0; i < n; i++) {
                        if (st[i] == PageStatus.OK) {
                            stored[t].set(start + i);
                        } else {
                            rejected.incrementAndGet();
                        }
                    }
                    progress.accept(n);
                }
                synchronized (putLatency) {
                    putLatency.add(h);
                }
            });
            double putSeconds = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            runPhase(pool, threads, t -> {
                Histogram h = new Histogram(HISTOGRAM_MAX_US, 3);
                long[] objects = new long[batch];
                int[] indexes = new int[batch];
                byte[] data = new byte[batch * Frame.PAGE_BYTES];
                byte[] expected = new byte[Frame.PAGE_BYTES];
                long object = t + 1;
                java.util.Arrays.fill(objects, object);
                for (int start = 0; start < perThread; start += batch) {
                    int n = Math.min(batch, perThread - start);
                    for (int i = 0; i < n; i++) {
                        indexes[i] = start + i;
                    }
                    long s = System.nanoTime();
                    PageStatus[] st = client.getBatch(this.pool, objects, indexes, n, false, data);
                    h.recordValue(Math.min(HISTOGRAM_MAX_US, (System.nanoTime() - s) / 1000));
                    for (int i = 0; i < n; i++) {
                        boolean wasStored = stored[t].get(start + i);
                        if (st[i] == PageStatus.OK) {
                            if (verify) {
                                if (content.matches(object, start + i, data, i * Frame.PAGE_BYTES, expected)) {
                                    verified.incrementAndGet();
                                } else {
                                    mismatches.incrementAndGet();
                                }
                            }
                        } else if (wasStored) {
                            missing.incrementAndGet();
                        }
                    }
                    progress.accept(n);
                }
                synchronized (getLatency) {
                    getLatency.add(h);
                }
            });
            double getSeconds = (System.nanoTime() - t0) / 1e9;
            return new LoadResult(total, batch, threads, compressible, poolKind, putSeconds, getSeconds,
                putLatency.getValueAtPercentile(50), putLatency.getValueAtPercentile(99),
                putLatency.getValueAtPercentile(99.9), getLatency.getValueAtPercentile(50),
                getLatency.getValueAtPercentile(99), getLatency.getValueAtPercentile(99.9),
                rejected.get(), verified.get(), mismatches.get(), missing.get());
        } finally {
            pool.shutdownNow();
        }
    }

    @FunctionalInterface
    private interface ThreadBody {
        void run(int thread) throws Exception;
    }

    private static void runPhase(ExecutorService pool, int threads, ThreadBody body) throws Exception {
        Future<?>[] fs = new Future<?>[threads];
        for (int t = 0; t < threads; t++) {
            int thread = t;
            fs[t] = pool.submit(() -> {
                body.run(thread);
                return null;
            });
        }
        for (Future<?> f : fs) {
            f.get();
        }
    }
}
