package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One vectored flush over replicas: every copy of each page on a donor in service, complete or filling, is flushed.
 * OK when some copy had the page. A copy the flush did not reach for sure (its donor suspect, BUSY to the end,
 * INTERNAL, no answer) may still hold the page, so the page is marked stale there and never read from it again
 * until written again or re-copied ({@link CopyFailure}); a donor that is gone goes out of service. A flushed page
 * is thus never readable afterwards, whatever failed. Never waits.
 */
final class ReplicatedFlush {
    private final DonorSet donors;
    /** The connections this call's frames go out on, as its caller chose. */
    private final WireSource wires;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageStatus[] result;
    private final int[] entryOf;

    ReplicatedFlush(DonorSet donors, WireSource wires, PoolRef pool, long[] objects, int[] indexes, PageStatus[] result) {
        this.donors = donors;
        this.wires = wires;
        this.pool = pool;
        this.objects = objects;
        this.indexes = indexes;
        this.result = result;
        this.entryOf = new int[result.length];
    }

    CompletableFuture<Void> run(int[] positions, int m) {
        ExtentMap map = pool.extents;
        DonorLink[] links = donors.links();
        int count = donors.count();
        DonorGroups groups = new DonorGroups(count);
        synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                result[i] = PageStatus.MISS;
                if (pool.spec().shared()) {
                    entryOf[i] = ExtentMap.NONE;
                    int d = SharedPlacement.donorOf(links, count, objects[i], ExtentMap.extentOf(indexes[i]));
                    if (d != ExtentMap.NONE && links[d].isUp()) {
                        groups.add(d, i);
                    } else if (d != ExtentMap.NONE) {
                        pool.owedFlushes().owe(d, objects[i], indexes[i]);
                    }
                    continue;
                }
                int e = map.find(objects[i], ExtentMap.extentOf(indexes[i]));
                entryOf[i] = e;
                if (e == ExtentMap.NONE) {
                    continue;
                }
                map.beginWrite(e);
                for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                    int d = map.replica(e, k);
                    if (d != ExtentMap.NONE && links[d].isUp()) {
                        groups.add(d, i);
                    } else if (d != ExtentMap.NONE) {
                        map.markStale(e, d, indexes[i]);
                    }
                }
            }
        }
        List<CompletableFuture<Void>> frames = groups.send((d, picks, k) -> {
            DonorLink link = links[d];
            int id = pool.idOn(d);
            CompletableFuture<Void> sent = id == PoolRef.NO_POOL ? CompletableFuture.completedFuture(null)
                : wires.connection(link).thenCompose(conn -> FrameCalls.flush(conn, id, objects, indexes, picks, k, this::record));
            return sent.handle((v, error) -> {
                if (error != null) {
                    forget(link, d, picks, k, PagePoolException.causeOf(error));
                } else if (id != PoolRef.NO_POOL && map.mayHaveStale()) {
                    known(d, picks, k);
                }
                return null;
            });
        });
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenRun(() -> {
            for (int j = 0; j < m; j++) {
                int e = entryOf[positions[j]];
                if (e != ExtentMap.NONE) {
                    map.clearPageLost(e, indexes[positions[j]]);
                    map.endWrite(e);
                }
            }
        });
    }

    /** The flush reached donor {@code d}: the pages are absent there now, no longer stale. */
    private void known(int d, int[] picks, int k) {
        ExtentMap map = pool.extents;
        synchronized (map.lock()) {
            for (int j = 0; j < k; j++) {
                int e = entryOf[picks[j]];
                if (e != ExtentMap.NONE) {
                    map.clearStale(e, 1L << d, indexes[picks[j]]);
                }
            }
        }
    }

    private void forget(DonorLink link, int d, int[] picks, int k, Throwable cause) {
        if (cause instanceof NoSuchPoolException) {
            return; // a donor without the pool holds none of its pages: nothing is left to flush there
        }
        if (donors.copyFailed(pool, link, entryOf, indexes, picks, k, cause, true) == CopyFailure.CALLERS) {
            // Refused as the caller's (a secret): the pages may still be there, and this call cannot reach them.
            DonorSet.markStale(pool, d, entryOf, indexes, picks, k);
        }
    }

    private synchronized void record(int i, int status) {
        if (status == Status.PAGE_OK) {
            result[i] = PageStatus.OK;
        }
    }

    /**
     * flush_object on every donor holding the pool: completes with the pages removed, counting every copy. It is
     * a write of every extent of the object while under way (the re-replicator must not copy a page it is
     * removing). A donor the flush did not reach for sure (suspect, or no answer) may still hold the pages: every
     * page of the object is marked stale on its copies; a donor that is gone goes out of service.
     */
    static CompletableFuture<Long> object(DonorSet donors, PoolRef pool, long object) {
        ExtentMap map = pool.extents;
        map.beginBulkWrite();
        AtomicLong removed = new AtomicLong();
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int d = 0; d < donors.count(); d++) {
            DonorLink link = donors.link(d);
            int id = pool.idOn(d);
            if (id == PoolRef.NO_POOL || link.isRemoved()) {
                continue;
            }
            if (!link.isUp()) {
                map.markObjectStale(object, d);
                continue;
            }
            int donor = d;
            calls.add(donors.connection(link).thenCompose(conn -> FrameCalls.flushObject(conn, id, object))
                .handle((n, error) -> {
                    if (error == null) {
                        removed.addAndGet(n);
                        return null;
                    }
                    Throwable cause = PagePoolException.causeOf(error);
                    if (cause instanceof NoSuchPoolException) {
                        return null;
                    }
                    if (CopyFailure.of(cause) == CopyFailure.GONE || pool.spec().shared()) {
                        donors.takeOutOfService(link, "flush_object failed: " + cause.getMessage());
                    } else {
                        map.markObjectStale(object, donor);
                        if (CopyFailure.silent(cause)) {
                            donors.treatAsSuspect(link, "flush_object unanswered: " + cause.getMessage());
                        }
                    }
                    return null;
                }));
        }
        return CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0]))
            .whenComplete((v, error) -> map.endBulkWrite())
            .thenApply(v -> removed.get());
    }
}
