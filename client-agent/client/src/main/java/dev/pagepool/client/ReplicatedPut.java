package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One vectored put over replicas, by the rules of the repository's docs/replication.md ("Writing a page").
 * Never waits: every step continues in the callback of the one before.
 */
final class ReplicatedPut {
    /** How often a page whose every copy is on a suspect donor looks again: the watcher's pace of re-attaching. */
    static final long STALL_POLL_MILLIS = 50;

    private final DonorSet donors;
    /** The connections this call's frames go out on, as its caller chose. */
    private final WireSource wires;
    private final ClientCounters counters;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageSlots pages;
    /** The caller's version of each page, kept by the donor and handed back with it; null: all 0. */
    private final long[] versions;
    private final PageStatus[] result;
    private final int[] entryOf;
    private final int[] targets;
    /** Per page, the donors that stored it. */
    private final long[] stored;
    /** Per page, the donors that went out of service while it was on its way. */
    private final long[] failed;
    /** Per page, the donors whose copy is in an unknown state: the frame failed there for a reason of its own. */
    private final long[] unknown;
    /** Per page, the donors that answered NO_SUCH_POOL. */
    private final long[] noPool;
    /** Per page, the suspect donors holding a copy it could not be written to. */
    private final long[] suspect;
    private final long startedNanos;
    private final boolean[] damaged;
    /** A refusal that is about the request, not a donor (BAD_SECRET, INVALID): the caller gets it. */
    private volatile Throwable refused;

    ReplicatedPut(DonorSet donors, WireSource wires, ClientCounters counters, PoolRef pool, long[] objects, int[] indexes, long[] versions, PageSlots pages,
                  PageStatus[] result) {
        this.versions = versions;
        this.donors = donors;
        this.wires = wires;
        this.counters = counters;
        this.pool = pool;
        this.objects = objects;
        this.indexes = indexes;
        this.pages = pages;
        this.result = result;
        int n = result.length;
        this.entryOf = new int[n];
        this.targets = new int[n];
        this.stored = new long[n];
        this.failed = new long[n];
        this.unknown = new long[n];
        this.noPool = new long[n];
        this.suspect = new long[n];
        this.damaged = new boolean[n];
        this.startedNanos = donors.clock().nanoTime();
    }

    CompletableFuture<Void> run(int[] positions, int m, int attempt) {
        ExtentMap map = pool.extents;
        DonorLink[] links = donors.links();
        int count = donors.count();
        DonorGroups groups = new DonorGroups(count);
        if (pool.spec().shared()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                int d = SharedPlacement.donorOf(links, count, objects[i], ExtentMap.extentOf(indexes[i]));
                boolean up = d != ExtentMap.NONE && links[d].isUp();
                reset(i, ExtentMap.NONE, up ? 1 : 0);
                if (up) {
                    groups.add(d, i);
                } else if (d != ExtentMap.NONE) {
                    pool.owedFlushes().owe(d, objects[i], indexes[i]); // it may hold an older version
                }
            }
        } else synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                int e = map.findOrAdd(objects[i], ExtentMap.extentOf(indexes[i]));
                place(map, links, count, e);
                map.beginWrite(e);
                map.setVersion(e, indexes[i], versions == null ? 0 : versions[i]);
                // A filling copy is not read until copied whole, so a page it alone stored is readable nowhere:
                // with no complete copy in service the page goes to no copy, and waits like one whose every copy
                // is suspect.
                boolean readable = completeCopyUp(map, links, e);
                int t = 0;
                long away = 0;
                for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                    int d = map.replica(e, k);
                    if (d == ExtentMap.NONE) {
                        continue;
                    }
                    if (links[d].isUp() && readable) {
                        groups.add(d, i);
                        t++;
                    } else if (!links[d].isUp()) {
                        map.markStale(e, d, indexes[i]); // before the put can be acknowledged
                        away |= 1L << d;
                    }
                }
                reset(i, e, t);
                suspect[i] = away;
            }
        }
        List<CompletableFuture<Void>> frames = groups.send((d, picks, k) -> {
            DonorLink link = links[d];
            int id = pool.idOn(d);
            CompletableFuture<Void> sent = id == PoolRef.NO_POOL
                ? CompletableFuture.failedFuture(new DonorUnavailableException("pool not on donor " + link.name()))
                : wires.connection(link).thenCompose(conn -> FrameCalls.put(conn, id, objects, indexes, versions, pages, picks, k,
                    (i, status) -> record(i, d, status)));
            return sent.handle((v, error) -> {
                if (error != null) {
                    frameFailed(link, d, picks, k, PagePoolException.causeOf(error));
                }
                return null;
            });
        });
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0]))
            .thenCompose(v -> settle(positions, m, attempt, links, count));
    }

    private void reset(int i, int entry, int targetCount) {
        entryOf[i] = entry;
        targets[i] = targetCount;
        stored[i] = 0;
        failed[i] = 0;
        unknown[i] = 0;
        noPool[i] = 0;
        suspect[i] = 0;
        damaged[i] = false;
    }

    /**
     * A frame failed as a whole; {@link CopyFailure} says what that means for the copy. NO_SUCH_POOL is decided
     * when every copy has answered (see settle). A donor that is gone or went silent leaves the pages to go again to
     * the copies still in service (a silent one keeps its copy, with these pages stale). Anything else leaves that
     * copy in an unknown state: the page is refused and the copy flushed.
     */
    private void frameFailed(DonorLink link, int d, int[] picks, int k, Throwable cause) {
        if (cause instanceof NoSuchPoolException && !pool.spec().shared()) {
            mark(noPool, d, picks, k);
            return;
        }
        CopyFailure outcome = CopyFailure.of(cause);
        if (outcome == CopyFailure.CALLERS) {
            refused = cause;
            mark(unknown, d, picks, k);
        } else if (outcome == CopyFailure.GONE && CopyFailure.wholeDonor(cause) || CopyFailure.silent(cause)) {
            donors.copyFailed(pool, link, entryOf, indexes, picks, k, cause, true);
            mark(failed, d, picks, k);
        } else {
            mark(unknown, d, picks, k);
        }
    }

    private static boolean completeCopyUp(ExtentMap map, DonorLink[] links, int e) {
        for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
            int d = map.replica(e, k);
            if (d != ExtentMap.NONE && !map.isFilling(e, k) && links[d].isUp()) {
                return true;
            }
        }
        return false;
    }

    /** Gives the extent as many copies as the pool wants, on donors it does not use yet. */
    private void place(ExtentMap map, DonorLink[] links, int count, int e) {
        // A copy added to an extent that already holds data starts filling (the re-replicator copies the rest);
        // the copies of a new extent are all complete from the start.
        boolean fill = map.completeCount(e) > 0;
        while (map.replicaCount(e) < pool.replicas()) {
            long excluded = 0;
            for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                int d = map.replica(e, k);
                if (d != ExtentMap.NONE) {
                    excluded |= 1L << d;
                }
            }
            int d = TwoChoicePlacement.choose(links, count, excluded);
            if (d == ExtentMap.NONE) {
                return; // fewer donors up than copies wanted: the put is refused below
            }
            map.addReplica(e, d, fill);
            links[d].placed((long) ExtentMap.EXTENT_PAGES * Frame.PAGE_BYTES);
        }
    }

    /** The copies of {@code ok} hold page {@code i} as written: it is no longer stale on them. */
    private void known(int i, long ok) {
        ExtentMap map = pool.extents;
        if (entryOf[i] == ExtentMap.NONE || !map.mayHaveStale()) {
            return;
        }
        map.clearStale(entryOf[i], ok, indexes[i]);
    }

    private void endWrite(int i) {
        if (entryOf[i] != ExtentMap.NONE) {
            // Stored, or refused with every version removed: either way the page is no longer a lost one.
            if (result[i] != null) {
                pool.extents.clearPageLost(entryOf[i], indexes[i]);
            }
            pool.extents.endWrite(entryOf[i]);
        }
    }

    private synchronized void record(int i, int d, int status) {
        if (status == Status.PAGE_OK) {
            stored[i] |= 1L << d;
        } else if (status == Status.PAGE_BAD_CRC) {
            damaged[i] = true;
        }
    }

    private synchronized void mark(long[] set, int d, int[] picks, int k) {
        for (int j = 0; j < k; j++) {
            set[picks[j]] |= 1L << d;
            stored[picks[j]] &= ~(1L << d);
        }
    }

    private CompletableFuture<Void> settle(int[] positions, int m, int attempt, DonorLink[] links, int count) {
        NoSuchPoolException notTheCallers = donors.settleNoPool(pool, this, positions, m, noPool,
            i -> stored[i] == 0 && unknown[i] == 0 && Long.bitCount(noPool[i]) == targets[i], i -> failed[i] |= noPool[i]);
        if (notTheCallers != null) {
            refused = notTheCallers;
        }
        int[] retry = new int[m];
        int retries = 0;
        int[] undone = new int[m];
        int undos = 0;
        int[] waiting = new int[m];
        int waits = 0;
        DonorGroups undo = new DonorGroups(count);
        synchronized (this) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                long ok = stored[i];
                if (unknown[i] == 0 && targets[i] > 0 && Long.bitCount(ok) == targets[i]) {
                    if (acknowledge(i, ok)) {
                        continue;
                    }
                    // The complete copies that stored it were forgotten before it settled (their donors went, and
                    // the extent may have lost every copy with them): readable nowhere, so it is placed again, as
                    // for a frame that failed on a donor gone. Acknowledged, it would read as a miss.
                    failed[i] |= ok;
                }
                if (targets[i] == 0 && suspect[i] != 0 && refused == null && donors.mayWaitForSuspect(startedNanos)) {
                    waiting[waits++] = i; // every copy is on a silent donor: wait for one to answer
                    endWrite(i);
                    continue;
                }
                if (failed[i] != 0 && unknown[i] == 0 && attempt == 0 && refused == null) {
                    // Out-of-service donors are already forgotten; the copies that stored will be written again.
                    retry[retries++] = i;
                    endWrite(i);
                    continue;
                }
                result[i] = damaged[i] ? PageStatus.BAD_CRC : PageStatus.REJECTED;
                long flush = ok | unknown[i];
                if (flush == 0) {
                    endWrite(i);
                    continue;
                }
                undone[undos++] = i;
                for (int d = 0; d < count; d++) {
                    if ((flush & (1L << d)) != 0) {
                        undo.add(d, i);
                    }
                }
            }
        }
        List<CompletableFuture<Void>> frames = undo.send((d, picks, k) -> {
            DonorLink link = links[d];
            int id = pool.idOn(d);
            CompletableFuture<Void> flushed = id == PoolRef.NO_POOL ? CompletableFuture.completedFuture(null)
                : wires.connection(link).thenCompose(conn -> FrameCalls.flush(conn, id, objects, indexes, picks, k, (i, s) -> { }));
            return flushed.handle((v, error) -> {
                if (error != null && donors.copyFailed(pool, link, entryOf, indexes, picks, k, error, true)
                        == CopyFailure.CALLERS) {
                    // The copy may still hold a version of the page: never read it again.
                    forgetCopies(d, picks, k);
                }
                return null;
            });
        });
        final int undoneCount = undos;
        final int again = retries;
        final int waitCount = waits;
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
            for (int j = 0; j < undoneCount; j++) {
                endWrite(undone[j]);
            }
            if (refused != null) {
                return CompletableFuture.failedFuture(refused);
            }
            CompletableFuture<Void> retried = again == 0 ? CompletableFuture.completedFuture(null)
                : run(retry, again, attempt + 1);
            if (again > 0) {
                counters.failover(again);
            }
            if (waitCount == 0) {
                return retried;
            }
            // Asked again from the start once a donor had time to be re-attached: the attempt count restarts, as
            // nothing was tried on a copy in service.
            return retried.thenCompose(w -> donors.pause(STALL_POLL_MILLIS))
                .thenCompose(w -> run(waiting, waitCount, 0));
        });
    }

    /**
     * Page {@code i}, stored by every copy in service ({@code ok}), is OK if a complete copy of them is still on the
     * map. Checked and settled under the map's lock: a loss of the extent in between would mark the page lost, and
     * the settling would then clear that mark, leaving a page acknowledged and read as a plain miss.
     */
    private boolean acknowledge(int i, long ok) {
        synchronized (pool.extents.lock()) {
            if (entryOf[i] != ExtentMap.NONE && !pool.extents.completeOn(entryOf[i], ok)) {
                return false;
            }
            // A copy short of the target is restored by the re-replicator.
            result[i] = PageStatus.OK;
            known(i, ok);
            endWrite(i);
            return true;
        }
    }

    private void forgetCopies(int d, int[] picks, int k) {
        donors.dropCopies(pool, d, entryOf, picks, k);
    }
}
