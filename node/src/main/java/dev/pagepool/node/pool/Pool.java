package dev.pagepool.node.pool;

import dev.pagepool.protocol.PoolSpec;

/**
 * One tmem pool on this donor. A private pool belongs to the client id that created it; a shared pool to
 * whoever presents its UUID.
 */
public record Pool(int id, PoolSpec spec, long ownerClientId, long createdAtMillis) {
    public boolean persistent() {
        return spec.persistent();
    }

    public boolean shared() {
        return spec.shared();
    }
}
