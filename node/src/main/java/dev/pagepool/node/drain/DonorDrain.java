package dev.pagepool.node.drain;

import dev.pagepool.node.cluster.ClusterMembership;
import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Empties the donor before it goes away: readiness DOWN and puts refused first (so no new pages arrive), then
 * ephemeral pages dropped, every persistent page handed back to its owner, and finally the cluster left.
 *
 * <p>Runs on {@code POST /admin/drain} (the process keeps running; the operator's preStop hook sends SIGTERM
 * afterwards, which finds nothing left to do) and on shutdown, before the cluster membership and the data
 * server stop, bounded by {@code pagepool.node.drain-timeout}. Pages whose owner is not connected cannot be
 * handed back: they are reported and logged at WARN, never silently dropped; they are lost when the process
 * exits, and the owner's replicas or local disk are what still hold them.
 */
@ApplicationScoped
public class DonorDrain {
    private static final Logger LOG = Logger.getLogger(DonorDrain.class);
    /** How often the drain looks whether hand-back is done. */
    private static final long POLL_MILLIS = 20;
    /** Quiet looks in a row before the drain believes nothing more can go: a reply may be in flight between two. */
    private static final int QUIET_LOOKS = 3;
    private static final int DROP_BATCH_PAGES = 4096;

    @Inject
    NodeSettings settings;
    @Inject
    PageStore store;
    @Inject
    PoolRegistry pools;
    @Inject
    WatermarkGuard guard;
    @Inject
    HandbackSender sender;
    @Inject
    NodeCounters counters;
    @Inject
    ClusterMembership membership;

    private DrainSummary last;

    /** Drains within the configured timeout; a second call finds little left and returns quickly. */
    public synchronized DrainSummary drain() {
        return drain(settings.drainTimeoutMillis());
    }

    synchronized DrainSummary drain(long timeoutMillis) {
        long start = System.currentTimeMillis();
        long deadline = start + timeoutMillis;
        long pagesBefore = counters.handedBackPages.sum();
        long bytesBefore = counters.handedBackBytes.sum();
        guard.startDrain();
        LOG.infof("draining: readiness DOWN, puts refused; %d persistent pages to hand back", store.persistentPages());
        long dropped = 0;
        for (int n; (n = store.evictEphemeral(-1, DROP_BATCH_PAGES)) > 0; ) {
            dropped += n;
        }
        sender.drain();
        boolean timedOut = !awaitHandback(deadline);
        membership.leave();
        List<Integer> unreachable = new ArrayList<>();
        long unreachablePages = 0;
        for (Pool pool : pools.all()) {
            if (pool.persistent() && !sender.reachable(pool.id())) {
                long pages = store.persistentPagesOf(pool.id());
                if (pages > 0) {
                    unreachable.add(pool.id());
                    unreachablePages += pages;
                }
            }
        }
        unreachable.sort(null);
        long left = store.persistentPages();
        DrainSummary summary = new DrainSummary(counters.handedBackPages.sum() - pagesBefore,
            counters.handedBackBytes.sum() - bytesBefore, left, unreachablePages, List.copyOf(unreachable), dropped,
            System.currentTimeMillis() - start, timedOut && left > 0, membership.state() != ClusterMembership.State.JOINED);
        if (left > 0) {
            LOG.warnf("drain ended with %d persistent pages still held (%d of pools %s whose owners are not connected%s):"
                    + " they stay in this donor until it exits, and are lost then; their owners must read them from a"
                    + " replica or their own disk", left, unreachablePages, unreachable,
                timedOut ? "; the drain timed out" : "");
        }
        LOG.infof("drain done: %s", summary);
        last = summary;
        return summary;
    }

    /** True when every persistent page is gone or nothing more can be handed back; false on timeout. */
    private boolean awaitHandback(long deadline) {
        int quiet = 0;
        while (System.currentTimeMillis() < deadline) {
            if (store.persistentPages() == 0) {
                return true;
            }
            quiet = sender.quiet() ? quiet + 1 : 0;
            if (quiet >= QUIET_LOOKS) {
                return true;
            }
            sender.wakeAll();
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return store.persistentPages() == 0;
    }

    /** The last drain's summary, or null. */
    public synchronized DrainSummary last() {
        return last;
    }

    /** SIGTERM: drain before the cluster membership (priority APPLICATION) and the data server stop. */
    void onShutdown(@Observes @Priority(Interceptor.Priority.APPLICATION - 100) ShutdownEvent event) {
        try {
            drain();
        } catch (RuntimeException e) {
            LOG.errorf(e, "drain at shutdown failed; persistent pages still held are lost with the process");
        }
    }
}
