package dev.pagepool.node.metrics;

import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Publishes the donor's state as {@code pagepool_*} Prometheus metrics. Gauges read the store's statistics
 * at scrape time; counters read the {@link NodeCounters} the data path bumps, so scraping costs the data
 * path nothing.
 */
@Singleton
public class NodeMetrics implements MeterBinder {
    @Inject
    PageStore store;
    @Inject
    NodeCounters counters;
    @Inject
    BufferReserve reserve;
    @Inject
    WatermarkGuard guard;
    @Inject
    DonorBudget budget;

    @Override
    public void bindTo(MeterRegistry registry) {
        storeGauge(registry, "pagepool.capacity.bytes", "RAM budget for pages", StoreStats::capacityBytes);
        storeGauge(registry, "pagepool.used.bytes", "Slab bytes holding pages", StoreStats::usedBytes);
        storeGauge(registry, "pagepool.stored.bytes", "Bytes of page data after compression", StoreStats::storedBytes);
        storeGauge(registry, "pagepool.pages", "Pages stored", StoreStats::pages);
        storeGauge(registry, "pagepool.pages.persistent", "Pages stored in persistent pools", StoreStats::pagesPersistent);
        storeGauge(registry, "pagepool.pages.ephemeral", "Pages stored in ephemeral pools", StoreStats::pagesEphemeral);
        storeGauge(registry, "pagepool.pages.same.filled", "Pages stored as one repeated word", StoreStats::sameFilledPages);
        storeGauge(registry, "pagepool.metadata.bytes", "Bytes of index and allocator metadata", StoreStats::metadataBytes);
        storeGauge(registry, "pagepool.compression.ratio", "Raw page bytes over stored bytes",
            s -> s.storedBytes() == 0 ? 1.0 : (double) s.pages() * PageStore.PAGE_SIZE / Math.max(1, s.storedBytes()));
        FunctionCounter.builder("pagepool.evictions", store, st -> st.stats().evictions())
            .description("Ephemeral pages evicted to make room").register(registry);
        Gauge.builder("pagepool.reserve.bytes", reserve, BufferReserve::totalBytes)
            .description("Pre-allocated data-path buffer reserve").register(registry);
        Gauge.builder("pagepool.reserve.used.bytes", reserve, BufferReserve::usedBytes)
            .description("Reserve buffers in use").register(registry);
        counter(registry, "pagepool.puts", "Pages offered by put", counters.puts);
        counter(registry, "pagepool.puts.rejected", "Puts rejected (full, pressure, reserve low)", counters.putsRejected);
        counter(registry, "pagepool.puts.bad.crc", "Puts whose data failed its CRC32C", counters.putsBadCrc);
        counter(registry, "pagepool.gets", "Pages asked for by get", counters.gets);
        counter(registry, "pagepool.get.misses", "Gets that found no page", counters.getMisses);
        counter(registry, "pagepool.flushed.pages", "Pages removed by flush", counters.flushedPages);
        counter(registry, "pagepool.busy.replies", "Requests answered BUSY for want of a reserve buffer", counters.busyReplies);
        counter(registry, "pagepool.protocol.errors", "Requests answered with a protocol error", counters.protocolErrors);
        counter(registry, "pagepool.auth.failures", "Connections refused for a missing or wrong proof of the token", counters.authFailures);
        counter(registry, "pagepool.connections.refused", "Connections closed at accept: connection or handshake cap reached",
            counters.connectionsRefused);
        counter(registry, "pagepool.handshake.timeouts", "Connections closed for not completing the handshake in time",
            counters.handshakeTimeouts);
        counter(registry, "pagepool.puts.over.client.limit", "Puts rejected because the pool's owner reached its page limit",
            counters.putsOverClientLimit);
        Gauge.builder("pagepool.watermark.level", guard, g -> g.level().number())
            .description("Watermark level: 0 normal, 1 high, 2 low (puts rejected), 3 min (hand-back)").register(registry);
        Gauge.builder("pagepool.operator.capacity.bytes", budget, DonorBudget::operatorBytes)
            .description("The operator's budget, before pressure signals cut it").register(registry);
        Gauge.builder("pagepool.arena.bytes", store, PageStore::arenaBytes)
            .description("Direct memory held for pages (slabs in use and free)").register(registry);
        Gauge.builder("pagepool.arena.ready.bytes", store, s -> s.stats().arenaReadyBytes())
            .description("A chunk zeroed ahead of the arena's next growth, within the budget").register(registry);
        counter(registry, "pagepool.handed.back.pages", "Persistent pages freed after their owner acknowledged them",
            counters.handedBackPages);
        counter(registry, "pagepool.handed.back.bytes", "Uncompressed bytes of pages handed back", counters.handedBackBytes);
        counter(registry, "pagepool.handback.refused", "Handed-back pages the owner could not take (kept)",
            counters.handbackRefused);
        counter(registry, "pagepool.handback.timeouts", "HANDBACK frames left unanswered (pages kept)",
            counters.handbackTimeouts);
        Gauge.builder("pagepool.connections", counters.connectionsOpen, LongAdder::sum)
            .description("Open data connections").register(registry);
        Gauge.builder("pagepool.connections.calls.only", counters.connectionsCallsOnly, LongAdder::sum)
            .description("Open data connections that carry one client thread's own calls (no hand-back)")
            .register(registry);
    }

    private void storeGauge(MeterRegistry registry, String name, String description, ToDoubleFunction<StoreStats> value) {
        Gauge.builder(name, store, st -> value.applyAsDouble(st.stats())).description(description).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String description, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).register(registry);
    }
}
