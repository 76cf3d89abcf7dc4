package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One vectored get over replicas. Each page is read from one complete copy of its extent (copies take turns
 * by extent, spreading reads); pages whose donor fails are read again from another copy, so the caller sees
 * no error while one copy survives. A persistent page with no copy left is LOST, never read from a copy
 * that is still filling (it may not have the page yet) nor from a donor that was out of service.
 */
final class ReplicatedGet {
    private final PagePoolClient client;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageSlots dst;
    private final PageStatus[] result;
    private final long[] tried;
    private final boolean exclusive;

    ReplicatedGet(PagePoolClient client, PoolRef pool, long[] objects, int[] indexes, PageSlots dst, PageStatus[] result,
                  boolean exclusive) {
        this.exclusive = exclusive;
        this.client = client;
        this.pool = pool;
        this.objects = objects;
        this.indexes = indexes;
        this.dst = dst;
        this.result = result;
        this.tried = new long[result.length];
    }

    CompletableFuture<Void> run(int[] positions, int m, int attempt) {
        ExtentMap map = pool.extents;
        DonorLink[] links = client.links();
        int donors = client.donorCount();
        PagePoolClient.DonorGroups groups = new PagePoolClient.DonorGroups(donors);
        synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                if (pool.spec().shared()) {
                    int d = SharedPlacement.donorOf(links, donors, objects[i], ExtentMap.extentOf(indexes[i]));
                    if (d == ExtentMap.NONE || (tried[i] & (1L << d)) != 0) {
                        result[i] = PageStatus.MISS;
                    } else {
                        tried[i] |= 1L << d;
                        groups.add(d, i);
                    }
                    continue;
                }
                int e = map.find(objects[i], ExtentMap.extentOf(indexes[i]));
                if (e == ExtentMap.NONE) {
                    result[i] = PageStatus.MISS;
                    continue;
                }
                int d = chooseCopy(map, links, e, i, attempt);
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
            CompletableFuture<Void> sent;
            try {
                int id = pool.idOn(d);
                if (id == PoolRef.NO_POOL) {
                    throw new NoSuchPoolException("pool not on donor " + link.name() + " (destroyed, or not created there yet)");
                }
                sent = FrameCalls.get(client.connection(link), id, exclusive, objects, indexes, dst,
                    picks, k, (i, status) -> result[i] = status == Status.PAGE_OK ? PageStatus.OK : PageStatus.MISS);
            } catch (PagePoolException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            return sent.handle((v, error) -> {
                if (error == null) {
                    return null;
                }
                Throwable cause = PagePoolClient.unwrap(error);
                if (!PagePoolClient.isDonorFailure(cause)) {
                    throw new java.util.concurrent.CompletionException(cause);
                }
                client.failed(link, cause);
                synchronized (retry) {
                    for (int j = 0; j < k; j++) {
                        retry[retries[0]++] = picks[j];
                    }
                }
                return null;
            });
        });
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
            int again;
            synchronized (retry) {
                again = retries[0];
            }
            if (again == 0) {
                return CompletableFuture.completedFuture(null);
            }
            client.counters().failover(again);
            return run(retry, again, attempt + 1);
        });
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
        return d != ExtentMap.NONE && !map.isFilling(e, k) && links[d].isUp() && (tried[i] & (1L << d)) == 0;
    }

    /** No copy to read: a persistent page that had copies is lost; anything else simply misses. */
    private void gone(ExtentMap map, int e, int i) {
        boolean hadCopies = map.isLost(e) || tried[i] != 0;
        if (pool.spec().persistent() && hadCopies) {
            result[i] = PageStatus.LOST;
            client.counters().pageLost();
        } else {
            result[i] = PageStatus.MISS;
        }
    }
}
