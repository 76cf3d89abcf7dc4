package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One vectored flush over replicas: every copy of each page, complete or filling, is flushed. OK when some
 * copy had the page. A donor that fails is taken out of service, which forgets its copies anyway.
 */
final class ReplicatedFlush {
    private final PagePoolClient client;
    private final PoolRef pool;
    private final long[] objects;
    private final int[] indexes;
    private final PageStatus[] result;
    private final int[] entryOf;

    ReplicatedFlush(PagePoolClient client, PoolRef pool, long[] objects, int[] indexes, PageStatus[] result) {
        this.client = client;
        this.pool = pool;
        this.objects = objects;
        this.indexes = indexes;
        this.result = result;
        this.entryOf = new int[result.length];
    }

    CompletableFuture<Void> run(int[] positions, int m) {
        ExtentMap map = pool.extents;
        DonorLink[] links = client.links();
        PagePoolClient.DonorGroups groups = new PagePoolClient.DonorGroups(client.donorCount());
        synchronized (map.lock()) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                result[i] = PageStatus.MISS;
                if (pool.spec().shared()) {
                    entryOf[i] = ExtentMap.NONE;
                    int d = SharedPlacement.donorOf(links, client.donorCount(), objects[i], ExtentMap.extentOf(indexes[i]));
                    if (d != ExtentMap.NONE) {
                        groups.add(d, i);
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
                    if (d != ExtentMap.NONE) {
                        groups.add(d, i);
                    }
                }
            }
        }
        List<CompletableFuture<Void>> frames = groups.send((d, picks, k) -> {
            DonorLink link = links[d];
            try {
                int id = pool.idOn(d);
                if (id == PoolRef.NO_POOL) {
                    return CompletableFuture.completedFuture(null);
                }
                return FrameCalls.flush(client.connection(link), id, objects, indexes, picks, k, this::record)
                    .exceptionally(error -> {
                        client.failed(link, error);
                        return null;
                    });
            } catch (PagePoolException e) {
                client.failed(link, e);
                return CompletableFuture.completedFuture(null);
            }
        });
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0])).thenRun(() -> {
            for (int j = 0; j < m; j++) {
                int e = entryOf[positions[j]];
                if (e != ExtentMap.NONE) {
                    map.endWrite(e);
                }
            }
        });
    }

    private synchronized void record(int i, int status) {
        if (status == Status.PAGE_OK) {
            result[i] = PageStatus.OK;
        }
    }
}
