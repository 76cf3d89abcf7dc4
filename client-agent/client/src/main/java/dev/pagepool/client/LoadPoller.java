package dev.pagepool.client;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks the donors in service their free memory once a second, as a duty of the {@link ClientConductor}: when this
 * client has been placing extents (and so needs to know) and the cluster does not publish it, and whenever cluster
 * members publish it, to check what they publish against the donor's own word ({@link StatedLoad}). A reply is acted
 * on by the next call and goes to the donor set; a failure is the donor's, as for any request.
 */
final class LoadPoller implements ControlDuty {
    /** What the poller may see of the donors and ask of them, and no more: its owner's side for it. */
    interface Donors {
        boolean closed();

        /** Whether the cluster publishes the donors' loads, so that this client need not ask. */
        boolean loadsFromCluster();

        /** Whether cluster members publish loads, which the donors' own STATS must then bound. */
        boolean checksClusterLoads();

        /** What the donor said of its own memory, on a connection where it proved who it is. */
        void stated(DonorLink link, long capacityBytes, long freeBytes);

        /** Indexes in use or once used: polls run to here. */
        int count();

        DonorLink link(int donor);

        CompletableFuture<Map<String, Long>> stats(DonorLink link);

        /** A request that touched no page failed: the donor's failure, as for any request. */
        void failed(DonorLink link, Throwable error);
    }

    private final Donors donors;
    private final Runnable wake;
    @SuppressWarnings("unchecked")
    private final CompletableFuture<Map<String, Long>>[] asked = new CompletableFuture[DonorIndexes.MAX_DONORS];
    private final DonorLink[] askedOf = new DonorLink[DonorIndexes.MAX_DONORS];
    /** The client has placed nothing yet when its conductor first runs: the first poll is a period later. */
    private final Period poll = new Period(TimeUnit.SECONDS.toNanos(1), false);

    LoadPoller(Donors donors, Runnable wake) {
        this.donors = donors;
        this.wake = wake;
    }

    @Override
    public int doWork(long nowNanos) {
        int work = collect();
        if (poll.due(nowNanos) && !donors.closed()) {
            work += poll();
        }
        return work;
    }

    private int poll() {
        boolean placing = false;
        for (int d = 0; d < donors.count(); d++) {
            placing |= donors.link(d).placedSinceReport() > 0;
        }
        if (!donors.checksClusterLoads() && (donors.loadsFromCluster() || !placing)) {
            return 0;
        }
        int work = 0;
        for (int d = 0; d < donors.count(); d++) {
            DonorLink link = donors.link(d);
            if (link.isUp() && asked[d] == null) {
                askedOf[d] = link;
                asked[d] = donors.stats(link);
                asked[d].whenComplete((s, e) -> wake.run());
                work++;
            }
        }
        return work;
    }

    private int collect() {
        int work = 0;
        for (int d = 0; d < asked.length; d++) {
            CompletableFuture<Map<String, Long>> reply = asked[d];
            if (reply == null || !reply.isDone()) {
                continue;
            }
            DonorLink link = askedOf[d];
            asked[d] = null;
            askedOf[d] = null;
            work++;
            reply.handle((s, error) -> {
                if (error != null) {
                    donors.failed(link, error);
                    return null;
                }
                Long capacity = s.get("capacity_bytes");
                Long used = s.get("used_bytes");
                if (capacity != null && used != null) {
                    donors.stated(link, capacity, capacity - used);
                }
                return null;
            });
        }
        return work;
    }
}
