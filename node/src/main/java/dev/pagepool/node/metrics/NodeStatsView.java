package dev.pagepool.node.metrics;

import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreStats;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The donor's statistics as one flat name-to-number map: the body of {@code GET /admin/stats} and of the
 * STATS opcode, so that both always say the same thing under the same names (CONTRACT.md fixes them).
 */
public final class NodeStatsView {
    /** The donor's own process, for its CPU time. */
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    /** The donor's JIT; null in a JVM without one. */
    private static final java.lang.management.CompilationMXBean JIT =
        java.lang.management.ManagementFactory.getCompilationMXBean();

    private final PageStore store;
    private final NodeCounters counters;
    private final BufferReserve reserve;
    private final WatermarkGuard guard;
    private final DonorBudget budget;

    public NodeStatsView(PageStore store, NodeCounters counters, BufferReserve reserve, WatermarkGuard guard,
                         DonorBudget budget) {
        this.store = store;
        this.counters = counters;
        this.reserve = reserve;
        this.guard = guard;
        this.budget = budget;
    }

    public Map<String, Long> snapshot() {
        StoreStats s = store.stats();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("capacity_bytes", s.capacityBytes());
        m.put("used_bytes", s.usedBytes());
        m.put("pages", s.pages());
        m.put("pages_persistent", s.pagesPersistent());
        m.put("pages_ephemeral", s.pagesEphemeral());
        m.put("stored_bytes", s.storedBytes());
        m.put("same_filled_pages", s.sameFilledPages());
        m.put("compressed_pages", s.compressedPages());
        m.put("metadata_bytes", s.metadataBytes());
        m.put("arena_bytes", s.arenaBytes());
        m.put("arena_ready_bytes", s.arenaReadyBytes());
        m.put("arena_inline_growths", s.arenaInlineGrowths());
        m.put("puts", counters.puts.sum());
        m.put("puts_rejected", counters.putsRejected.sum());
        m.put("puts_bad_crc", counters.putsBadCrc.sum());
        m.put("gets", counters.gets.sum());
        m.put("get_misses", counters.getMisses.sum());
        m.put("flushed_pages", counters.flushedPages.sum());
        m.put("evictions", s.evictions());
        m.put("handed_back", counters.handedBackPages.sum());
        // What a benchmark divides by pages served: CPU per page is steady where pages per second are not.
        m.put("process_cpu_nanos", OS.getProcessCpuTime());
        // And what tells a benchmark's warm-up that the donor's compilers are done, so that their CPU is not
        // counted as the cost of a page: milliseconds its compiler threads have spent compiling, -1 if unknown.
        m.put("jit_compile_millis", JIT != null && JIT.isCompilationTimeMonitoringSupported()
            ? JIT.getTotalCompilationTime() : -1L);
        m.put("handed_back_bytes", counters.handedBackBytes.sum());
        m.put("handback_frames", counters.handbackFrames.sum());
        m.put("handback_refused", counters.handbackRefused.sum());
        m.put("handback_timeouts", counters.handbackTimeouts.sum());
        m.put("handback_kept_newer", counters.handbackKeptNewer.sum());
        m.put("watermark_level", (long) guard.level().number());
        m.put("draining", guard.draining() ? 1L : 0L);
        m.put("operator_capacity_bytes", budget.operatorBytes());
        // -1: the pressure signals set no limit now.
        m.put("pressure_limit_bytes", budget.signalLimitBytes());
        m.put("reserve_bytes", reserve.totalBytes());
        m.put("reserve_used_bytes", reserve.usedBytes());
        m.put("busy_replies", counters.busyReplies.sum());
        m.put("protocol_errors", counters.protocolErrors.sum());
        m.put("auth_failures", counters.authFailures.sum());
        m.put("connections", counters.connectionsOpen.sum());
        m.put("connections_calls_only", counters.connectionsCallsOnly.sum());
        m.put("connections_refused", counters.connectionsRefused.sum());
        m.put("handshake_timeouts", counters.handshakeTimeouts.sum());
        m.put("puts_over_client_limit", counters.putsOverClientLimit.sum());
        m.put("max_pages", store.maxPages());
        m.put("puts_index_full", store.indexFullRejections());
        return m;
    }
}
