package dev.pagepool.node.cluster;

import dev.pagepool.discovery.DonorLoad;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreStats;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.Supplier;

/**
 * Samples the donor's load for the cluster from the page store's statistics.
 *
 * <p>The pressure level is derived from occupancy until the pressure handling publishes its own watermarks:
 * below 85 % of capacity 0, from 85 % 1 (evict ephemeral first), from 95 % 2 (puts are likely rejected), full or
 * over budget (capacity shrunk below use) 3 (hand-back).
 */
@ApplicationScoped
public class DonorLoadSampler implements Supplier<DonorLoad> {
    @Inject
    PageStore store;

    @Override
    public DonorLoad get() {
        StoreStats stats = store.stats();
        long capacity = Math.max(0, stats.capacityBytes());
        long used = Math.max(0, stats.usedBytes());
        return DonorLoad.now(capacity, used, pressureLevel(capacity, used), Math.max(0, stats.pages()));
    }

    static int pressureLevel(long capacity, long used) {
        if (capacity <= 0 || used >= capacity) {
            return used > 0 || capacity <= 0 ? 3 : 0;
        }
        double occupancy = (double) used / capacity;
        if (occupancy >= 0.95) {
            return 2;
        }
        return occupancy >= 0.85 ? 1 : 0;
    }
}
