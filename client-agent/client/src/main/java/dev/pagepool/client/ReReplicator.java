package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Restores the replica count of persistent extents after a donor went out of service, from a surviving copy,
 * in the background.
 *
 * <p>It also brings a complete copy that holds stale pages (written or flushed while its donor was suspect, or
 * failed there without an answer) up to date, the same way: the copy is made filling again, so it is no longer
 * read, and the whole extent is copied to it from a copy that holds none.
 *
 * <p>A new copy is first placed as <em>filling</em>: from that moment every new put and flush of the extent also
 * goes to it, and this thread copies the older pages (a GET of the extent from a complete copy, a PUT of the
 * hits and a FLUSH of the misses to the new one). The copy counts only if no write to the extent began or was
 * under way while it ran ({@link ExtentMap#writeStamp}); otherwise it is done again, so a page rewritten or
 * flushed meanwhile is never resurrected in an older version. Then the copy is marked complete and reads may use
 * it.
 *
 * <p>Bounded: at most {@link #PARALLEL_EXTENTS} extents are copied at once (a sliding window), paced to
 * {@link #BYTES_PER_SECOND}, so foreground traffic keeps its share of the donors and the wire.
 *
 * <p>A duty of the {@link ClientConductor}: each call starts the copies the window and the pace allow at the time it
 * is given, and a copy's replies run it to its end on the event loops. It never sleeps and reads no clock.
 */
final class ReReplicator implements ControlDuty, AutoCloseable {
    static final int PARALLEL_EXTENTS = 16;
    /** How soon to look again after a look found nothing to copy. */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How far ahead of the pace a copy may start: the pace is kept to this, not to the byte. */
    static final long PACE_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long EXTENT_BYTES = (long) ExtentMap.EXTENT_PAGES * Frame.PAGE_BYTES;

    private final DonorSet donors;
    private final ClientPools pools;
    private final ClientCounters counters;
    private final Runnable wake;
    /** Copy rate cap: re-replication must leave the donors and the wire to foreground traffic. */
    static final long BYTES_PER_SECOND = 256L << 20;
    private volatile boolean closed;
    /** Copies under way: the window's used slots. */
    private final AtomicInteger copying = new AtomicInteger();
    private boolean begun;
    /** The pace counts from the last look that found nothing: copying may catch up on that idle time, no more. */
    private long paceFromNanos;
    private long copiedBytes;
    private boolean idle;
    private long lookAgainNanos;

    private record Job(PoolRef pool, int entry, int source, int target) {
        Key key() {
            return new Key(pool, entry);
        }
    }

    private record Key(PoolRef pool, int entry) {
    }

    /** Extents being copied now: a sliding window of them, so a slow copy does not hold up the others. */
    private final Set<Key> busy = ConcurrentHashMap.newKeySet();

    ReReplicator(DonorSet donors, ClientPools pools, ClientCounters counters, Runnable wake) {
        this.donors = donors;
        this.pools = pools;
        this.counters = counters;
        this.wake = wake;
    }

    /**
     * Extents of replicated pools with some complete copies but fewer than wanted, extents that once lost pages
     * included: written again after the loss, they need their copies like any other.
     */
    int underReplicated() {
        int n = 0;
        for (PoolRef pool : pools) {
            if (pool.replicas() < 2) {
                continue;
            }
            ExtentMap map = pool.extents;
            synchronized (map.lock()) {
                for (int e = 0; e < map.size(); e++) {
                    if (map.completeCount(e) > 0 && (map.completeCount(e) < pool.replicas() || staleCopy(map, e) >= 0)) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    @Override
    public int doWork(long nowNanos) {
        if (closed || (idle && nowNanos - lookAgainNanos < 0)) {
            return 0;
        }
        if (!begun) {
            begun = true;
            paceFromNanos = nowNanos;
        }
        idle = false;
        int work = 0;
        while (copying.get() < PARALLEL_EXTENTS) {
            // Pace: never ahead of BYTES_PER_SECOND since the pace began.
            long due = paceFromNanos + copiedBytes * 1_000_000_000L / BYTES_PER_SECOND;
            if (due - nowNanos > PACE_SLACK_NANOS) {
                break;
            }
            List<Job> jobs = nextJobs(1);
            if (jobs.isEmpty()) {
                idle = true;
                lookAgainNanos = nowNanos + IDLE_NANOS;
                paceFromNanos = nowNanos;
                copiedBytes = 0;
                break;
            }
            start(jobs.get(0));
            copiedBytes += EXTENT_BYTES;
            work++;
        }
        return work;
    }

    private void start(Job job) {
        copying.incrementAndGet();
        busy.add(job.key());
        copy(job).whenComplete((pages, error) -> {
            busy.remove(job.key());
            copying.decrementAndGet();
            wake.run(); // a slot of the window is free
        });
    }

    /** Up to {@code limit} extents to copy that are not being copied already, placing their new copies first. */
    private List<Job> nextJobs(int limit) {
        List<Job> jobs = new ArrayList<>();
        DonorLink[] links = donors.links();
        int count = donors.count();
        for (PoolRef pool : pools) {
            if (pool.replicas() < 2) {
                continue;
            }
            ExtentMap map = pool.extents;
            synchronized (map.lock()) {
                for (int e = 0; e < map.size() && jobs.size() < limit; e++) {
                    if (busy.contains(new Key(pool, e)) || map.completeCount(e) == 0) {
                        continue;
                    }
                    if (map.completeCount(e) >= pool.replicas()) {
                        Job repair = repairJob(pool, map, links, e);
                        if (repair != null) {
                            jobs.add(repair);
                        }
                        continue;
                    }
                    long excluded = 0;
                    for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                        int d = map.replica(e, k);
                        if (d != ExtentMap.NONE) {
                            excluded |= 1L << d;
                        }
                    }
                    if (map.replicaCount(e) < pool.replicas()) {
                        int target = TwoChoicePlacement.choose(links, count, excluded);
                        if (target == ExtentMap.NONE) {
                            continue; // no donor to copy to, for now
                        }
                        map.addReplica(e, target, true);
                        links[target].placed((long) ExtentMap.EXTENT_PAGES * Frame.PAGE_BYTES);
                    }
                    int source = ExtentMap.NONE;
                    int target = ExtentMap.NONE;
                    for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                        int d = map.replica(e, k);
                        if (d == ExtentMap.NONE || !links[d].isUp()) {
                            continue;
                        }
                        if (map.isFilling(e, k)) {
                            target = d;
                        } else if (!map.hasStale(e, k)) {
                            source = d; // a copy with stale pages would pass on what it does not know
                        }
                    }
                    if (source != ExtentMap.NONE && target != ExtentMap.NONE) {
                        jobs.add(new Job(pool, e, source, target));
                    }
                }
            }
        }
        return jobs;
    }

    /** The replica slot of a complete copy with stale pages, or NONE. Under the map's lock. */
    private static int staleCopy(ExtentMap map, int e) {
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            if (map.replica(e, k) != ExtentMap.NONE && !map.isFilling(e, k) && map.hasStale(e, k)) {
                return k;
            }
        }
        return ExtentMap.NONE;
    }

    /**
     * A copy of extent {@code e} on a donor in service that holds stale pages, turned back into a filling copy (no
     * longer read, still written) and copied whole from one that holds none; null if there is none, or no such
     * source. Under the map's lock. Reading it meanwhile is not safe: the copy may land on a page after a newer
     * write of it, and only the write stamp, checked at the end, tells.
     */
    private static Job repairJob(PoolRef pool, ExtentMap map, DonorLink[] links, int e) {
        int source = ExtentMap.NONE;
        int target = ExtentMap.NONE;
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            int d = map.replica(e, k);
            if (d == ExtentMap.NONE || map.isFilling(e, k) || !links[d].isUp()) {
                continue;
            }
            if (map.hasStale(e, k)) {
                target = d;
            } else {
                source = d;
            }
        }
        if (source == ExtentMap.NONE || target == ExtentMap.NONE) {
            return null;
        }
        map.refill(e, target);
        return new Job(pool, e, source, target);
    }

    /** Copies one extent; completes with the pages copied (0 when it must be tried again). */
    private CompletableFuture<Integer> copy(Job job) {
        ExtentMap map = job.pool().extents;
        int n = ExtentMap.EXTENT_PAGES;
        long[] objects = new long[n];
        int[] indexes = new int[n];
        long[] versions = new long[n];
        int[] picks = new int[n];
        long stamp;
        // The stamp and the versions under one lock: with no write in flight, the versions are those of the pages
        // on the complete copies, and the new copy gets them too (a hand-back from it must carry the right one).
        synchronized (map.lock()) {
            stamp = map.writeStamp(job.entry());
            if (stamp == Long.MIN_VALUE) {
                return CompletableFuture.completedFuture(0);
            }
            long object = map.object(job.entry());
            int first = map.extent(job.entry()) * ExtentMap.EXTENT_PAGES;
            for (int j = 0; j < n; j++) {
                objects[j] = object;
                indexes[j] = first + j;
                versions[j] = map.version(job.entry(), first + j);
                picks[j] = j;
            }
        }
        byte[] pages = new byte[n * Frame.PAGE_BYTES];
        int[] status = new int[n];
        DonorLink source = donors.link(job.source());
        DonorLink target = donors.link(job.target());
        int sourcePool = job.pool().idOn(job.source());
        int targetPool = job.pool().idOn(job.target());
        if (sourcePool == PoolRef.NO_POOL || targetPool == PoolRef.NO_POOL) {
            return CompletableFuture.completedFuture(0);
        }
        DonorLink[] blamed = {source};
        CompletableFuture<Void> read = donors.connection(source).thenCompose(conn -> FrameCalls.get(conn, sourcePool,
            false, objects, indexes, PageSlots.contiguous(pages), picks, n, (i, s) -> status[i] = s));
        return read.thenCompose(v -> {
            blamed[0] = target;
            int[] hits = new int[n];
            int[] misses = new int[n];
            int h = 0;
            int m = 0;
            for (int j = 0; j < n; j++) {
                if (status[j] == Status.PAGE_OK) {
                    hits[h++] = j;
                } else {
                    misses[m++] = j;
                }
            }
            int hitCount = h;
            int missCount = m;
            boolean[] refused = new boolean[1];
            return donors.connection(target).thenCompose(to -> {
                CompletableFuture<Void> put = hitCount == 0 ? CompletableFuture.completedFuture(null)
                    : FrameCalls.put(to, targetPool, objects, indexes, versions, PageSlots.contiguous(pages), hits, hitCount,
                        (i, s) -> refused[0] |= s != Status.PAGE_OK);
                CompletableFuture<Void> flush = missCount == 0 ? CompletableFuture.completedFuture(null)
                    : FrameCalls.flush(to, targetPool, objects, indexes, misses, missCount, (i, s) -> { });
                return CompletableFuture.allOf(put, flush);
            }).thenApply(w -> {
                if (refused[0]) {
                    // The new donor is full: give the copy up and let placement find another one.
                    map.removeReplica(job.entry(), job.target());
                    return 0;
                }
                synchronized (map.lock()) {
                    if (map.writeStamp(job.entry()) != stamp || !map.holds(job.entry(), job.target())) {
                        return 0;
                    }
                    map.markComplete(job.entry(), job.target());
                }
                counters.reReplicated(hitCount);
                return Math.max(1, hitCount);
            });
        }).exceptionally(error -> {
            Throwable cause = PagePoolException.causeOf(error);
            CopyFailure outcome = CopyFailure.of(cause);
            if (outcome == CopyFailure.GONE && CopyFailure.wholeDonor(cause)) {
                // The side that failed is taken out of service; the job is found again on the next pass.
                donors.takeOutOfService(blamed[0], cause.getMessage());
            } else if (CopyFailure.silent(cause)) {
                donors.treatAsSuspect(blamed[0], cause.getMessage());
            } else if (blamed[0] == target) {
                // The filling copy's content is unknown (a put or flush refused): it is never made complete, and a
                // new one is placed on the next pass.
                map.removeReplica(job.entry(), job.target());
            }
            return 0;
        });
    }

    @Override
    public void close() {
        closed = true;
    }
}
