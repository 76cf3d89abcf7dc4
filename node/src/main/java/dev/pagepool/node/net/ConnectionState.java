package dev.pagepool.node.net;

import dev.pagepool.node.pool.SharedPoolGrants;

/** What the donor knows about one client connection once it has said HELLO. Confined to its event loop. */
final class ConnectionState {
    /** Connections in the order they authenticated: a fence refuses writes from those before it. */
    private static final java.util.concurrent.atomic.AtomicLong SEQUENCE = new java.util.concurrent.atomic.AtomicLong();
    private final SharedPoolGrants grants = new SharedPoolGrants();
    private boolean authenticated;
    private long clientId;
    private long sequence;

    boolean authenticated() {
        return authenticated;
    }

    long clientId() {
        return clientId;
    }

    SharedPoolGrants grants() {
        return grants;
    }

    /** This connection's place in the order of authentication, compared with a pool's fence. */
    long sequence() {
        return sequence;
    }

    void authenticate(long clientId) {
        this.clientId = clientId;
        this.sequence = SEQUENCE.incrementAndGet();
        this.authenticated = true;
    }
}
