package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** What the client saw of the cluster's failures and how it repaired them. */
public final class ClientCounters {
    private final LongAdder donorsDown = new LongAdder();
    private final LongAdder donorsReadmitted = new LongAdder();
    private final LongAdder donorsSuspect = new LongAdder();
    private final LongAdder donorsReattached = new LongAdder();
    private final LongAdder stallWaits = new LongAdder();
    private final LongAdder extentsLost = new LongAdder();
    private final LongAdder pagesLost = new LongAdder();
    private final LongAdder failovers = new LongAdder();
    private final LongAdder pagesReReplicated = new LongAdder();
    private final LongAdder bytesReReplicated = new LongAdder();
    private final LongAdder membershipEventsIgnored = new LongAdder();
    private final LongAdder clusterLoadsRefused = new LongAdder();

    void donorDown() {
        donorsDown.increment();
    }

    void donorReadmitted() {
        donorsReadmitted.increment();
    }

    /** A donor stopped answering: its copies are kept, unused, until it answers or the stall bound passes. */
    void donorSuspect() {
        donorsSuspect.increment();
    }

    /** A suspect donor answered again with the client's pools intact, and serves its copies again. */
    void donorReattached() {
        donorsReattached.increment();
    }

    /** A request paused (50 ms) because every copy it needed was on a suspect donor. */
    void stallWait() {
        stallWaits.increment();
    }

    /**
     * A cluster member that did not advertise a donor sent news of it (it left, or published a load for its
     * address): ignored, since any member can claim any address.
     */
    void membershipEventIgnored() {
        membershipEventsIgnored.increment();
    }

    void clusterLoadRefused() {
        clusterLoadsRefused.increment();
    }

    void extentsLost(int n) {
        extentsLost.add(n);
    }

    void pageLost() {
        pagesLost.increment();
    }

    /** A page read, put or flush that a failed donor forced onto another donor. */
    void failover(int pages) {
        failovers.add(pages);
    }

    void reReplicated(int pages) {
        pagesReReplicated.add(pages);
        bytesReReplicated.add((long) pages * Frame.PAGE_BYTES);
    }

    public long donorsDown() {
        return donorsDown.sum();
    }

    public long donorsReadmitted() {
        return donorsReadmitted.sum();
    }

    public long donorsSuspect() {
        return donorsSuspect.sum();
    }

    public long donorsReattached() {
        return donorsReattached.sum();
    }

    public long stallWaits() {
        return stallWaits.sum();
    }

    /** Extents whose every copy was lost with failed donors. */
    public long extentsLost() {
        return extentsLost.sum();
    }

    /** Frames sent again because a donor answered BUSY, by every client in this JVM. */
    public static long busyRetriesInProcess() {
        return BusyRetry.RETRIES.sum();
    }

    public long pagesLost() {
        return pagesLost.sum();
    }

    public long pagesReReplicated() {
        return pagesReReplicated.sum();
    }

    public long membershipEventsIgnored() {
        return membershipEventsIgnored.sum();
    }

    /** Loads published through the cluster that were refused: too far from what the donor itself said in STATS. */
    public long clusterLoadsRefused() {
        return clusterLoadsRefused.sum();
    }

    public long bytesReReplicated() {
        return bytesReReplicated.sum();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("donors_down", donorsDown.sum());
        m.put("donors_readmitted", donorsReadmitted.sum());
        m.put("donors_suspect", donorsSuspect.sum());
        m.put("donors_reattached", donorsReattached.sum());
        m.put("stall_waits", stallWaits.sum());
        m.put("extents_lost", extentsLost.sum());
        m.put("pages_lost", pagesLost.sum());
        m.put("failover_pages", failovers.sum());
        m.put("pages_rereplicated", pagesReReplicated.sum());
        m.put("bytes_rereplicated", bytesReReplicated.sum());
        m.put("membership_events_ignored", membershipEventsIgnored.sum());
        m.put("cluster_loads_refused", clusterLoadsRefused.sum());
        return m;
    }
}
