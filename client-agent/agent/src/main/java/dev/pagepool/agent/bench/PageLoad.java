package dev.pagepool.agent.bench;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.protocol.Frame;
import java.util.Arrays;
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
 * HdrHistogram. With batch 1 the calls are the single-page {@code put} and {@code get} an application with one
 * page at a time makes, and latency is per page. Each thread works on its own object id, so threads never
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
        for (int t = 0; t < threads; t++) {
            stored[t] = new BitSet(perThread);
        }
        AtomicLong rejected = new AtomicLong();
        AtomicLong verified = new AtomicLong();
        AtomicLong mismatches = new AtomicLong();
        AtomicLong missing = new AtomicLong();
        ExecutorService workers = Executors.newFixedThreadPool(threads);
        CpuMeter cpu = new CpuMeter(client);
        try {
            CpuMeter.Sample beforePut = cpu.sample();
            Phase put = new Phase(workers, threads, perThread, batch, progress);
            put.run(
                (object, start, n, data) -> {
                    for (int i = 0; i < n; i++) {
                        content.fill(object, start + i, data, i * Frame.PAGE_BYTES);
                    }
                },
                batch == 1
                    ? (objects, indexes, data, n) -> single(client.put(pool, objects[0], indexes[0], data))
                    : (objects, indexes, data, n) -> client.putBatch(pool, objects, indexes, data, n),
                (t, object, start, n, st, data, scratch) -> {
                    for (int i = 0; i < n; i++) {
                        if (st[i] == PageStatus.OK) {
                            stored[t].set(start + i);
                        } else {
                            rejected.incrementAndGet();
                        }
                    }
                });
            CpuMeter.Sample afterPut = cpu.sample();
            Phase get = new Phase(workers, threads, perThread, batch, progress);
            get.run(
                (object, start, n, data) -> { },
                batch == 1
                    ? (objects, indexes, data, n) -> single(client.get(pool, objects[0], indexes[0], false, data))
                    : (objects, indexes, data, n) -> client.getBatch(pool, objects, indexes, n, false, data),
                (t, object, start, n, st, data, scratch) -> {
                    for (int i = 0; i < n; i++) {
                        if (st[i] != PageStatus.OK) {
                            if (stored[t].get(start + i)) {
                                missing.incrementAndGet();
                            }
                        } else if (verify) {
                            if (content.matches(object, start + i, data, i * Frame.PAGE_BYTES, scratch)) {
                                verified.incrementAndGet();
                            } else {
                                mismatches.incrementAndGet();
                            }
                        }
                    }
                });
            CpuMeter.Sample afterGet = cpu.sample();
            return new LoadResult(total, batch, threads, compressible, poolKind, put.seconds, get.seconds,
                put.latency.getValueAtPercentile(50), put.latency.getValueAtPercentile(99),
                put.latency.getValueAtPercentile(99.9), get.latency.getValueAtPercentile(50),
                get.latency.getValueAtPercentile(99), get.latency.getValueAtPercentile(99.9),
                rejected.get(), verified.get(), mismatches.get(), missing.get(),
                CpuMeter.usPerPage(beforePut, afterPut, total, false), CpuMeter.usPerPage(afterPut, afterGet, total, false),
                CpuMeter.usPerPage(beforePut, afterPut, total, true), CpuMeter.usPerPage(afterPut, afterGet, total, true),
                put.latency.getMaxValue(), get.latency.getMaxValue(), CpuMeter.compileMillis(beforePut, afterGet));
        } finally {
            workers.shutdownNow();
        }
    }

    private static PageStatus[] single(PageStatus status) {
        return new PageStatus[] {status};
    }

    @FunctionalInterface
    private interface Prepare {
        void fill(long object, int start, int n, byte[] data);
    }

    @FunctionalInterface
    private interface Call {
        PageStatus[] send(long[] objects, int[] indexes, byte[] data, int n);
    }

    @FunctionalInterface
    private interface Account {
        void count(int thread, long object, int start, int n, PageStatus[] statuses, byte[] data, byte[] scratch);
    }

    /**
     * One phase over all threads: thread t works on object t + 1, pages 0..perThread in vectors of
     * {@code batch}; only the vector call itself is timed. Each thread keeps its own buffers and histogram.
     */
    private static final class Phase {
        private final ExecutorService workers;
        private final int threads;
        private final int perThread;
        private final int batch;
        private final LongConsumer progress;
        final Histogram latency = new Histogram(HISTOGRAM_MAX_US, 3);
        double seconds;

        Phase(ExecutorService workers, int threads, int perThread, int batch, LongConsumer progress) {
            this.workers = workers;
            this.threads = threads;
            this.perThread = perThread;
            this.batch = batch;
            this.progress = progress;
        }

        void run(Prepare prepare, Call call, Account account) throws Exception {
            long t0 = System.nanoTime();
            Future<?>[] fs = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                int thread = t;
                fs[t] = workers.submit(() -> {
                    work(thread, prepare, call, account);
                    return null;
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
            seconds = (System.nanoTime() - t0) / 1e9;
        }

        private void work(int thread, Prepare prepare, Call call, Account account) {
            Histogram h = new Histogram(HISTOGRAM_MAX_US, 3);
            long object = thread + 1;
            long[] objects = new long[batch];
            int[] indexes = new int[batch];
            byte[] data = new byte[batch * Frame.PAGE_BYTES];
            byte[] scratch = new byte[Frame.PAGE_BYTES];
            Arrays.fill(objects, object);
            for (int start = 0; start < perThread; start += batch) {
                int n = Math.min(batch, perThread - start);
                for (int i = 0; i < n; i++) {
                    indexes[i] = start + i;
                }
                prepare.fill(object, start, n, data);
                long s = System.nanoTime();
                PageStatus[] statuses = call.send(objects, indexes, data, n);
                h.recordValue(Math.min(HISTOGRAM_MAX_US, (System.nanoTime() - s) / 1000));
                account.count(thread, object, start, n, statuses, data, scratch);
                progress.accept(n);
            }
            synchronized (latency) {
                latency.add(h);
            }
        }
    }
}
