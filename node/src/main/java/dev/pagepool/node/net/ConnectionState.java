package dev.pagepool.node.net;

import dev.pagepool.node.pool.SharedPoolGrants;
import dev.pagepool.protocol.OwnerKey;

/** What the donor knows about one client connection once it has said HELLO. Confined to its event loop. */
final class ConnectionState {
    /** Connections in the order they authenticated: a fence refuses writes from those before it. */
    private static final java.util.concurrent.atomic.AtomicLong SEQUENCE = new java.util.concurrent.atomic.AtomicLong();
    private final SharedPoolGrants grants = new SharedPoolGrants();
    private boolean authenticated;
    private long clientId;
    private OwnerKey ownerKey;
    private long sequence;

    boolean authenticated() {
        return authenticated;
    }

    long clientId() {
        return clientId;
    }

    /** The key this connection proved in AUTH: the secret of the private pools it may use. */
    OwnerKey ownerKey() {
        return ownerKey;
    }

    SharedPoolGrants grants() {
        return grants;
    }

    /** This connection's place in the order of authentication, compared with a pool's fence. */
    long sequence() {
        return sequence;
    }

    void authenticate(long clientId, OwnerKey ownerKey) {
        this.clientId = clientId;
        this.ownerKey = ownerKey;
        this.sequence = SEQUENCE.incrementAndGet();
        this.authenticated = true;
    }
}
