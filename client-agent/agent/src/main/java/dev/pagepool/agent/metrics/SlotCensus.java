package dev.pagepool.agent.metrics;

import dev.pagepool.agent.swap.SwapStore;

/**
 * How many slots of the export are in the cluster, on disk and nowhere, counted once per scrape. Counting walks
 * the whole slot map (4 bits a slot), so the three gauges share one walk instead of making three, and the walk
 * runs on the scraping worker thread, never on an event loop.
 */
final class SlotCensus {
    private final SwapStore swap;
    private volatile long[] counts = new long[3];

    SlotCensus(SwapStore swap) {
        this.swap = swap;
    }

    void refresh() {
        counts = swap.census();
    }

    long nowhere() {
        return counts[0];
    }

    long cluster() {
        return counts[1];
    }

    long disk() {
        return counts[2];
    }
}
