package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One vectored put over replicas. Each page goes to every replica of its extent (placing the extent first if it
 * is new or short of copies); it is OK only when every copy stored it. A page some copies refused is REJECTED
 * and flushed from the copies that took it, so a rejected put leaves nothing readable anywhere (tmem's
 * put-put-get rule). A page that failed only because a donor died is placed again once, on the survivors.
 */
final class ReplicatedPut {
    private final PagePoolClient client;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageSlots pages;
    private final PageStatus[] result;
    private final int[] entryOf;
    private final int[] targets;
    private final long[] stored;
    private final long[] failed;
    private final boolean[] damaged;
    /** A refusal that is about the request, not the donor (no such pool, bad secret): the caller gets it. */
    private volatile Throwable refused;

    ReplicatedPut(PagePoolClient client, PoolRef pool, long[] objects, int[] indexes, PageSlots pages, PageStatus[] result) {
        this.client = client;
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
        this.damaged = new boolean[n];
    }

    CompletableFuture<Void> run(int[] positions, int m, int attempt) {
        ExtentMap map = pool.extents;
        DonorLink[] links = client.links();
        int donors = client.donorCount();
        PagePoolClient.DonorGroups groups = new PagePoolClient.DonorGroups(donors);
        if (pool.spec().shared()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                int d = SharedPlacement.donorOf(links, donors, objects[i], ExtentMap.extentOf(indexes[i]));
                entryOf[i] = ExtentMap.NONE;
                targets[i] = d == ExtentMap.NONE ? 0 : 1;
                stored[i] = 0;
                failed[i] = 0;
                damaged[i] = false;
                if (d != ExtentMap.NONE) {
                    groups.add(d, i);
                }
            }
        } else synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                int e = map.findOrAdd(objects[i], ExtentMap.extentOf(indexes[i]));
                entryOf[i] = e;
                place(map, links, donors, e);
                map.beginWrite(e);
                int t = 0;
                for (int k = 0; k < ExtentMap.MAX_REPLICAS; k++) {
                    int d = map.replica(e, k);
                    if (d != ExtentMap.NONE) {
                        groups.add(d, i);
                        t++;
                    }
                }
                targets[i] = t;
                stored[i] = 0;
                failed[i] = 0;
                damaged[i] = false;
            }
        }
        List<CompletableFuture<Void>> frames = groups.send((d, picks, k) -> {
            DonorLink link = links[d];
            CompletableFuture<Void> sent;
            try {
                int id = donorPool(d);
                sent = FrameCalls.put(client.connection(link), id, objects, indexes, pages, picks, k,
                    (i, status) -> record(i, d, status));
            } catch (PagePoolException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            return sent.handle((v, error) -> {
                if (error != null) {
                    Throwable cause = PagePoolClient.unwrap(error);
                    if (PagePoolClient.isDonorFailure(cause)) {
                        client.failed(link, cause);
                    } else {
                        refused = cause;
                    }
                    failAll(d, picks, k);
                }
                return null;
            });
        });
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0]))
            .thenCompose(v -> settle(positions, m, attempt, links, donors));
    }

    /** Gives the extent as many copies as the pool wants, on donors it does not use yet. */
    private void place(ExtentMap map, DonorLink[] links, int donors, int e) {
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
            int d = TwoChoicePlacement.choose(links, donors, excluded);
            if (d == ExtentMap.NONE) {
                return; // fewer donors up than copies wanted: the put is refused below
            }
            map.addReplica(e, d, fill);
            links[d].placed((long) ExtentMap.EXTENT_PAGES * 4096);
        }
    }

    private void endWrite(int i) {
        if (entryOf[i] != ExtentMap.NONE) {
            pool.extents.endWrite(entryOf[i]);
        }
    }

    private int donorPool(int d) {
        int id = pool.idOn(d);
        if (id == PoolRef.NO_POOL) {
            throw new NoSuchPoolException("pool not on donor " + client.link(d).name() + " (destroyed, or not created there yet)");
        }
        return id;
    }

    private synchronized void record(int i, int d, int status) {
        if (status == Status.PAGE_OK) {
            stored[i] |= 1L << d;
        } else if (status == Status.PAGE_BAD_CRC) {
            damaged[i] = true;
        }
    }

    private synchronized void failAll(int d, int[] picks, int k) {
        for (int j = 0; j < k; j++) {
            failed[picks[j]] |= 1L << d;
            stored[picks[j]] &= ~(1L << d);
        }
    }

    private CompletableFuture<Void> settle(int[] positions, int m, int attempt, DonorLink[] links, int donors) {
        if (refused != null) {
            for (int j = 0; j < m; j++) {
                endWrite(positions[j]);
            }
            return CompletableFuture.failedFuture(refused);
        }
        int[] retry = new int[m];
        int retries = 0;
        int[] flushed = new int[m];
        int flushes = 0;
        PagePoolClient.DonorGroups undo = new PagePoolClient.DonorGroups(donors);
        synchronized (this) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                long ok = stored[i];
                if (targets[i] == pool.replicas() && Long.bitCount(ok) == targets[i]) {
                    result[i] = PageStatus.OK;
                    endWrite(i);
                    continue;
                }
                if (failed[i] != 0 && attempt == 0) {
                    retry[retries++] = i;
                    endWrite(i);
                    continue;
                }
                result[i] = damaged[i] ? PageStatus.BAD_CRC : PageStatus.REJECTED;
                if (ok == 0) {
                    endWrite(i);
                    continue;
                }
                flushed[flushes++] = i;
                for (int d = 0; d < donors; d++) {
                    if ((ok & (1L << d)) != 0) {
                        undo.add(d, i);
                    }
                }
            }
        }
        List<CompletableFuture<Void>> frames = undo.send((d, picks, k) -> {
            DonorLink link = links[d];
            try {
                int id = donorPool(d);
                return FrameCalls.flush(client.connection(link), id, objects, indexes, picks, k, (i, s) -> { })
                    .exceptionally(error -> {
                        client.failed(link, error);
                        return null;
                    });
            } catch (PagePoolException e) {
                client.failed(link, e);
                return CompletableFuture.completedFuture(null);
            }
        });
        final int undone = flushes;
        final int again = retries;
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
            for (int j = 0; j < undone; j++) {
                endWrite(flushed[j]);
            }
            if (again == 0) {
                return CompletableFuture.completedFuture(null);
            }
            client.counters().failover(again);
            return run(retry, again, attempt + 1);
        });
    }
}
