package dev.pagepool.node.net;

import dev.pagepool.node.pool.SharedPoolGrants;

/** What the donor knows about one client connection once it has said HELLO. Confined to its event loop. */
final class ConnectionState {
    private final SharedPoolGrants grants = new SharedPoolGrants();
    private boolean authenticated;
    private long clientId;

    boolean authenticated() {
        return authenticated;
    }

    long clientId() {
        return clientId;
    }

    SharedPoolGrants grants() {
        return grants;
    }

    void authenticate(long clientId) {
        this.clientId = clientId;
        this.authenticated = true;
    }
}
