package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One vectored get over replicas. Each page is read from one complete copy of its extent that does not hold it
 * stale (copies take turns by extent, spreading reads); a page whose copy fails is read again from another copy,
 * so the caller sees no error while one copy answers. What failed decides, by {@link CopyFailure}, what is
 * forgotten: a donor that is gone, broke the protocol or no longer has the pool goes out of service; a copy that
 * sent a damaged page is dropped for those extents only; a donor that went silent becomes suspect and keeps its
 * copies; BUSY changes nothing. A page whose only good copies are on suspect donors waits for one of them to
 * answer, up to the stall bound, and then fails the call (the export answers EIO). A persistent page with no copy
 * left is LOST, never read from a copy that is still filling (it may not have the page yet), from a copy that holds
 * it stale, nor from a donor out of service. Never blocks a thread: a wait is a timer.
 */
final class ReplicatedGet {
    private final DonorSet donors;
    /** The connections this call's frames go out on, as its caller chose. */
    private final WireSource wires;
    private final ClientCounters counters;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageSlots dst;
    private final PageStatus[] result;
    private final long[] tried;
    /** Per page, the copies that answered NO_SUCH_POOL: the donor lost the pool, or the pool is not the caller's. */
    private final long[] noPool;
    private final int[] entryOf;
    /** Per page, the copies that refused the read for now (BUSY to the end, a refusal of their own): asked again. */
    private final long[] refusedForNow;
    private final boolean exclusive;
    private final long startedNanos;

    ReplicatedGet(DonorSet donors, WireSource wires, ClientCounters counters, PoolRef pool, long[] objects, int[] indexes, PageSlots dst, PageStatus[] result,
                  boolean exclusive) {
        this.exclusive = exclusive;
        this.donors = donors;
        this.wires = wires;
        this.counters = counters;
        this.pool = pool;
        this.objects = objects;
        this.indexes = indexes;
        this.dst = dst;
        this.result = result;
        this.tried = new long[result.length];
        this.noPool = new long[result.length];
        this.entryOf = new int[result.length];
        this.refusedForNow = new long[result.length];
        this.startedNanos = donors.clock().nanoTime();
    }

    CompletableFuture<Void> run(int[] positions, int m, int attempt) {
        ExtentMap map = pool.extents;
        DonorLink[] links = donors.links();
        int count = donors.count();
        DonorGroups groups = new DonorGroups(count);
        int[] waiting = new int[m];
        int waits = 0;
        synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                if (pool.spec().shared()) {
                    entryOf[i] = ExtentMap.NONE;
                    int d = SharedPlacement.donorOf(links, count, objects[i], ExtentMap.extentOf(indexes[i]));
                    if (d == ExtentMap.NONE || !links[d].isUp() || (tried[i] & (1L << d)) != 0) {
                        result[i] = PageStatus.MISS;
                    } else {
                        tried[i] |= 1L << d;
                        groups.add(d, i);
                    }
                    continue;
                }
                int e = map.find(objects[i], ExtentMap.extentOf(indexes[i]));
                entryOf[i] = e;
                if (e == ExtentMap.NONE) {
                    result[i] = PageStatus.MISS;
                    continue;
                }
                int d = chooseCopy(map, links, e, i, attempt);
                if (d == ExtentMap.NONE && onSuspectDonor(map, links, e, i)) {
                    waiting[waits++] = i;
                    continue;
                }
                if (d == ExtentMap.NONE) {
                    gone(map, e, i);
                    continue;
                }
                tried[i] |= 1L << d;
                groups.add(d, i);
            }
        }
        int[] retry = new int[m];
        int[] retries = new int[1];
        List<CompletableFuture<Void>> frames = groups.send((d, picks, k) -> {
            DonorLink link = links[d];
            int id = pool.idOn(d);
            CompletableFuture<Void> sent = id == PoolRef.NO_POOL
                ? CompletableFuture.failedFuture(new DonorUnavailableException("pool not on donor " + link.name()))
                : wires.connection(link).thenCompose(conn -> FrameCalls.get(conn, id, exclusive, objects, indexes, dst,
                    picks, k, (i, status) -> result[i] = status == Status.PAGE_OK ? PageStatus.OK : missOrLost(i)));
            return sent.handle((v, error) -> {
                if (error == null) {
                    return null;
                }
                Throwable cause = PagePoolException.causeOf(error);
                if (CopyFailure.of(cause) == CopyFailure.CALLERS) {
                    throw new java.util.concurrent.CompletionException(cause); // about the request: the caller's
                }
                forget(link, d, picks, k, cause);
                synchronized (retry) {
                    for (int j = 0; j < k; j++) {
                        retry[retries[0]++] = picks[j];
                    }
                }
                return null;
            });
        });
        int waitCount = waits;
        CompletableFuture<Void> read = CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
            int again;
            synchronized (retry) {
                again = retries[0];
            }
            if (again == 0) {
                NoSuchPoolException notTheCallers = donors.settleNoPool(pool, noPool, positions, m, noPool,
                    i -> noPool[i] == tried[i], i -> { });
                return notTheCallers == null ? CompletableFuture.<Void>completedFuture(null)
                    : CompletableFuture.<Void>failedFuture(notTheCallers);
            }
            counters.failover(again);
            return run(retry, again, attempt + 1);
        });
        return waitCount == 0 ? read : read.thenCompose(v -> waitForSuspect(waiting, waitCount));
    }

    /**
     * Pages whose only good copies are on suspect donors: asked again once a donor had time to be re-attached,
     * for as long as the stall bound allows; then the call fails, and the copies stay on the map.
     */
    private CompletableFuture<Void> waitForSuspect(int[] waiting, int n) {
        if (!donors.mayWaitForSuspect(startedNanos)) {
            return CompletableFuture.failedFuture(new DonorUnavailableException("every copy of " + n + " page(s) is on a "
                + "donor that has not answered for the stall bound of " + donors.stallTimeoutMillis() + " ms"));
        }
        for (int j = 0; j < n; j++) {
            tried[waiting[j]] = 0; // the suspect donors may answer now; nothing was read from them
            refusedForNow[waiting[j]] = 0;
        }
        return donors.pause(ReplicatedPut.STALL_POLL_MILLIS).thenCompose(v -> run(waiting, n, 0));
    }

    /** Whether a good copy of page {@code i} is on a suspect donor: it may answer again within the stall bound. */
    private static boolean onSuspectDonorOf(ExtentMap map, DonorLink[] links, int e, int index) {
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            int d = map.replica(e, k);
            if (d != ExtentMap.NONE && !map.isFilling(e, k) && links[d].isSuspect() && !map.isStale(e, k, index)) {
                return true;
            }
        }
        return false;
    }

    private boolean onSuspectDonor(ExtentMap map, DonorLink[] links, int e, int i) {
        return pool.spec().persistent() && (refusedForNow[i] != 0 || onSuspectDonorOf(map, links, e, indexes[i]));
    }

    /** What the failure means for the copy, by the one rule: see {@link DonorSet#copyFailed}. */
    private void forget(DonorLink link, int d, int[] picks, int k, Throwable cause) {
        if (cause instanceof NoSuchPoolException && !pool.spec().shared()) {
            // Decided once every copy answered: the pool is not the caller's if none has it, else this donor lost it.
            synchronized (noPool) {
                for (int j = 0; j < k; j++) {
                    noPool[picks[j]] |= 1L << d;
                }
            }
            return;
        }
        // A get changes nothing on the donor, unless it was exclusive (get-and-flush), whose outcome is unknown.
        if (donors.copyFailed(pool, link, entryOf, indexes, picks, k, cause, exclusive) == CopyFailure.UNREACHABLE
                && !CopyFailure.silent(cause) && !exclusive) {
            synchronized (noPool) {
                for (int j = 0; j < k; j++) {
                    refusedForNow[picks[j]] |= 1L << d;
                }
            }
        }
    }

    /** A complete copy on a donor in service not tried yet for this page, or NONE. */
    private int chooseCopy(ExtentMap map, DonorLink[] links, int e, int i, int attempt) {
        int candidates = 0;
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            int d = map.replica(e, k);
            if (usable(map, links, e, k, d, i)) {
                candidates++;
            }
        }
        if (candidates == 0) {
            return ExtentMap.NONE;
        }
        int turn = Math.floorMod(e + attempt, candidates);
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            int d = map.replica(e, k);
            if (usable(map, links, e, k, d, i) && turn-- == 0) {
                return d;
            }
        }
        return ExtentMap.NONE;
    }

    private boolean usable(ExtentMap map, DonorLink[] links, int e, int k, int d, int i) {
        return d != ExtentMap.NONE && !map.isFilling(e, k) && links[d].isUp() && (tried[i] & (1L << d)) == 0
            && !map.isStale(e, k, indexes[i]);
    }

    /** A copy does not have the page: lost if it went with the extent's last copy and was not put since. */
    private PageStatus missOrLost(int i) {
        int e = entryOf[i];
        if (e != ExtentMap.NONE && pool.spec().persistent() && pool.extents.pageLost(e, indexes[i])) {
            counters.pageLost();
            return PageStatus.LOST;
        }
        return PageStatus.MISS;
    }

    /** No copy to read: a persistent page that had copies is lost; anything else simply misses. */
    private void gone(ExtentMap map, int e, int i) {
        boolean hadCopies = map.pageLost(e, indexes[i]) || tried[i] != 0;
        if (pool.spec().persistent() && hadCopies) {
            result[i] = PageStatus.LOST;
            counters.pageLost();
        } else {
            result[i] = PageStatus.MISS;
        }
    }
}
