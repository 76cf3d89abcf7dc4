package dev.pagepool.node.pool;

import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.PoolSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pools of this donor and who may use them.
 *
 * <p>Pool ids are never reused while the process lives, so a client holding the id of a destroyed pool gets
 * NO_SUCH_POOL rather than someone else's pages. Shared pools are keyed by their 128-bit UUID: a NEW_POOL
 * with the UUID of an existing shared pool of the same kind joins it (tmem's semantics), and the UUID is the
 * secret that grants access; connections remember which shared pools they have presented it for.
 * Lookups happen once per frame, not per page.
 */
public final class PoolRegistry {
    private final Map<Integer, Pool> pools = new ConcurrentHashMap<>();
    private final Map<SharedKey, Pool> shared = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);

    private record SharedKey(long high, long low, boolean persistent) {
    }

    /**
     * Creates a private pool whose secret is {@code ownerKey}, or creates or joins the shared pool with the spec's
     * UUID.
     */
    public Pool create(PoolSpec spec, long clientId, OwnerKey ownerKey) {
        if (spec.shared()) {
            return shared.computeIfAbsent(new SharedKey(spec.uuidHigh(), spec.uuidLow(), spec.persistent()), key -> {
                Pool pool = new Pool(nextId.getAndIncrement(), spec, clientId, ownerKey, System.currentTimeMillis());
                pools.put(pool.id(), pool);
                return pool;
            });
        }
        Pool pool = new Pool(nextId.getAndIncrement(), PoolSpec.privatePool(spec.persistent()), clientId, ownerKey,
            System.currentTimeMillis());
        pools.put(pool.id(), pool);
        return pool;
    }

    public Pool find(int id) {
        return pools.get(id);
    }

    /**
     * Whether a connection that proved {@code ownerKey} and has presented the UUIDs of {@code joinedShared} may use
     * {@code pool} (null when it does not exist). The one rule for every use: requests and hand-back alike. The
     * client id the connection said in HELLO plays no part: anyone who holds the token can say any id.
     */
    public static PoolAccess access(Pool pool, OwnerKey ownerKey, SharedPoolGrants joinedShared) {
        if (pool == null) {
            return PoolAccess.NO_SUCH_POOL;
        }
        if (pool.shared()) {
            return joinedShared.contains(pool.id()) ? PoolAccess.GRANTED : PoolAccess.BAD_SECRET;
        }
        return ownerKey != null && pool.ownerKey().sameAs(ownerKey) ? PoolAccess.GRANTED : PoolAccess.BAD_SECRET;
    }

    /**
     * Removes the pool from the registry and marks it destroyed (see {@link Pool}); the caller then frees its
     * pages. Null when it was not there (never created, or removed already).
     */
    public Pool remove(int id) {
        Pool pool = pools.get(id);
        if (pool == null) {
            return null;
        }
        pool.markDestroyed(); // before it leaves the map, so a request that still finds it may see the mark
        if (!pools.remove(id, pool)) {
            return null; // a concurrent remove won; it frees the pages
        }
        if (pool.shared()) {
            shared.remove(new SharedKey(pool.spec().uuidHigh(), pool.spec().uuidLow(), pool.persistent()));
        }
        return pool;
    }

    public Collection<Pool> all() {
        return List.copyOf(pools.values());
    }

    /**
     * Writes the ids of the pools created under {@code ownerKey} (the private ones and the shared ones) into
     * {@code into}, at most its length; returns how many. Once per PUT frame when a page limit is set, so no list.
     */
    public int idsOwnedBy(OwnerKey ownerKey, int[] into) {
        int n = 0;
        for (Pool pool : pools.values()) {
            if (pool.ownerKey().sameAs(ownerKey) && n < into.length) {
                into[n++] = pool.id();
            }
        }
        return n;
    }

    /** Pools created under {@code ownerKey}: private ones and the shared ones. */
    public int countOwnedBy(OwnerKey ownerKey) {
        int n = 0;
        for (Pool pool : pools.values()) {
            if (pool.ownerKey().sameAs(ownerKey)) {
                n++;
            }
        }
        return n;
    }

    /** True when NEW_POOL with {@code spec} would join an existing shared pool rather than create one. */
    public boolean joinsExisting(PoolSpec spec) {
        return spec.shared() && shared.containsKey(new SharedKey(spec.uuidHigh(), spec.uuidLow(), spec.persistent()));
    }

    /** The private pools whose secret is {@code ownerKey}. */
    public List<Pool> ownedBy(OwnerKey ownerKey) {
        List<Pool> owned = new ArrayList<>();
        for (Pool pool : pools.values()) {
            if (!pool.shared() && pool.ownerKey().sameAs(ownerKey)) {
                owned.add(pool);
            }
        }
        return owned;
    }

    /** The private pools created under {@code clientId}, for its lease. */
    public List<Pool> ownedBy(long clientId) {
        List<Pool> owned = new ArrayList<>();
        for (Pool pool : pools.values()) {
            if (!pool.shared() && pool.ownerClientId() == clientId) {
                owned.add(pool);
            }
        }
        return owned;
    }
}
