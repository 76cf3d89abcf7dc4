package dev.pagepool.node.pool;

import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.store.PageStore;
import org.jboss.logging.Logger;

/** Destroys the private pools of a client whose lease ran out (see {@link ClientLeases#sweep}). */
public final class LeaseExpiry {
    private static final Logger LOG = Logger.getLogger(LeaseExpiry.class);

    private final PoolRegistry pools;
    private final PageStore store;
    private final NodeCounters counters;

    public LeaseExpiry(PoolRegistry pools, PageStore store, NodeCounters counters) {
        this.pools = pools;
        this.store = store;
        this.counters = counters;
    }

    public void expire(long clientId) {
        long pages = 0;
        int destroyed = 0;
        for (Pool pool : pools.ownedBy(clientId)) {
            if (pools.remove(pool.id()) != null) {
                pages += store.destroyPool(pool.id(), pool.persistent());
                destroyed++;
                counters.poolsDestroyed.increment();
            }
        }
        if (destroyed > 0) {
            LOG.infof("lease of client %s expired: destroyed %d private pools holding %d pages",
                Long.toUnsignedString(clientId), destroyed, pages);
        }
    }
}
