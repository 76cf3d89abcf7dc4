package dev.pagepool.node.pool;

import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.PoolSpec;

/**
 * One tmem pool on this donor. A private pool belongs to whoever proves the owner key its creator proved (its
 * secret, see {@link OwnerKey}); the client id it was created under only names it (leases, logs, the admin view).
 * A shared pool belongs to whoever presents its UUID.
 *
 * <p>A pool is marked destroyed before it leaves the registry and before its pages are freed. A request that
 * found the pool just before (a PUT on another event loop) checks the mark after it has stored its pages: if it
 * is set, the destroy may have run before those pages arrived, so the request frees them itself. The store's
 * lock orders the two: whichever of the destroy's free and the put's store comes second sees the other's work.
 */
public final class Pool {
    private final int id;
    private final PoolSpec spec;
    private final long ownerClientId;
    private final OwnerKey ownerKey;
    private final long createdAtMillis;
    private volatile boolean destroyed;
    /** Connections authenticated before this sequence number may no longer change the pool. */
    private volatile long fencedBefore;

    public Pool(int id, PoolSpec spec, long ownerClientId, OwnerKey ownerKey, long createdAtMillis) {
        this.id = id;
        this.spec = spec;
        this.ownerClientId = ownerClientId;
        this.ownerKey = ownerKey;
        this.createdAtMillis = createdAtMillis;
    }

    public int id() {
        return id;
    }

    public PoolSpec spec() {
        return spec;
    }

    public long ownerClientId() {
        return ownerClientId;
    }

    /**
     * The key its creator proved: the secret of a private pool, and for any pool what the per-client caps count it
     * under (a client cannot shed its count by saying another client id).
     */
    public OwnerKey ownerKey() {
        return ownerKey;
    }

    public long createdAtMillis() {
        return createdAtMillis;
    }

    public boolean persistent() {
        return spec.persistent();
    }

    public boolean shared() {
        return spec.shared();
    }

    /** True once {@link PoolRegistry#remove} took the pool out: its pages are being, or have been, freed. */
    public boolean destroyed() {
        return destroyed;
    }

    /**
     * Refuses changes from the owner's connections older than {@code sequence}. Checked when a request starts: the
     * client writes again only after the fence's reply came back, a round trip after any request already under way.
     */
    public void fence(long sequence) {
        fencedBefore = Math.max(fencedBefore, sequence);
    }

    /** Whether a connection of this sequence number may change the pool. */
    public boolean admitsWritesFrom(long sequence) {
        return sequence >= fencedBefore;
    }

    void markDestroyed() {
        destroyed = true;
    }

    @Override
    public String toString() {
        // Not the spec: a shared pool's UUID is its secret and does not belong in logs.
        return "Pool[id=" + Integer.toUnsignedString(id) + (persistent() ? ", persistent" : ", ephemeral")
            + (shared() ? ", shared" : ", owner=" + Long.toUnsignedString(ownerClientId)) + (destroyed ? ", destroyed" : "") + "]";
    }
}
