package dev.pagepool.node;

import dev.pagepool.node.config.NodeConfig;
import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.metrics.NodeStatsView;
import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.pool.ClientLeases;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.PressureSignals;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageIndexBudget;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreSettings;
import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Wires the donor's plain-Java parts (store, registry, reserve, counters) into CDI, so that they stay free of
 * framework annotations and testable on their own.
 */
public class NodeComponents {
    private static final Logger LOG = Logger.getLogger(NodeComponents.class);

    @Produces
    @Singleton
    NodeSettings settings(NodeConfig config, @ConfigProperty(name = "quarkus.http.host") String httpHost) {
        NodeSettings settings = NodeSettings.from(config, httpHost);
        LOG.info(settings);
        return settings;
    }

    @Produces
    @Singleton
    PageStore pageStore(NodeSettings settings) {
        long maxPages = settings.maxPages() > 0 ? settings.maxPages() : PageIndexBudget.forThisHeap();
        PageStore store = new PageStore(new StoreSettings(settings.capacityBytes(), settings.chunkBytes(),
            settings.compression(), maxPages));
        LOG.infof("page store compressor: %s; at most %d pages in the index (%s)", store.compressorName(), maxPages,
            settings.maxPages() > 0 ? "pagepool.node.max-pages"
                : "half the heap of " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB at " + PageIndexBudget.BYTES_PER_PAGE + " bytes a page");
        return store;
    }

    void closeStore(@Disposes PageStore store) {
        store.close();
    }

    @Produces
    @Singleton
    BufferReserve reserve(NodeSettings settings) {
        return new BufferReserve(settings.reserveBytes());
    }

    @Produces
    @Singleton
    @DefaultBean
    PoolRegistry pools() {
        return new PoolRegistry();
    }

    @Produces
    @Singleton
    ClientLeases leases(NodeSettings settings) {
        return new ClientLeases(settings.leaseMillis());
    }

    @Produces
    @Singleton
    NodeCounters counters() {
        return new NodeCounters();
    }

    @Produces
    @Singleton
    NodeStatsView statsView(PageStore store, NodeCounters counters, BufferReserve reserve, WatermarkGuard guard,
                            DonorBudget budget) {
        return new NodeStatsView(store, counters, reserve, guard, budget);
    }

    @Produces
    @Singleton
    DonorBudget budget(PageStore store, NodeSettings settings) {
        return new DonorBudget(store, settings.watermarks(), settings.capacityBytes());
    }

    @Produces
    @Singleton
    PressureSignals signals(NodeSettings settings) {
        return PressureSignals.from(settings.pressure());
    }

    @Produces
    @Singleton
    HandbackSender handbackSender(PageStore store, BufferReserve reserve, PoolRegistry pools, NodeCounters counters,
                                  NodeSettings settings) {
        return new HandbackSender(store, reserve, pools, counters, settings.handbackAckTimeoutMillis());
    }

    @Produces
    @Singleton
    WatermarkGuard watermarkGuard(PageStore store, DonorBudget budget, HandbackSender sender) {
        return new WatermarkGuard(store, budget, sender);
    }
}
