package dev.pagepool.node.cluster;

import dev.pagepool.discovery.DonorLoad;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreStats;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.function.Supplier;

/**
 * Samples the donor's load for the cluster from the page store's statistics.
 *
 * <p>The pressure published is the donor's watermark level ({@link dev.pagepool.node.pressure.WatermarkLevel}):
 * 0 normal, 1 above high (ephemeral pages make way), 2 above low (puts rejected), 3 above min or budget shrunk
 * below use (hand-back). A draining donor publishes 3 until it has left the cluster.
 */
@ApplicationScoped
public class DonorLoadSampler implements Supplier<DonorLoad> {
    @Inject
    PageStore store;
    @Inject
    WatermarkGuard guard;

    @Override
    public DonorLoad get() {
        StoreStats stats = store.stats();
        long capacity = Math.max(0, stats.capacityBytes());
        long used = Math.max(0, stats.usedBytes());
        int pressure = guard.draining() ? 3 : guard.level().number();
        return DonorLoad.now(capacity, used, pressure, Math.max(0, stats.pages()));
    }
}
