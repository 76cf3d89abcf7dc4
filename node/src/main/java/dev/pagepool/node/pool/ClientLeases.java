package dev.pagepool.node.pool;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Leases of clients on their private pools. A client holds its lease while at least one of its connections is
 * open; once its last connection closes, the lease runs for {@code leaseMillis}, and if the client has not come
 * back by then its private pools are destroyed. An agent that crashed, or whose machine vanished, so cannot
 * leave its pages pinned in a donor's memory forever, and one that merely reconnects keeps them.
 *
 * <p>Connections of one client may sit on different event loops, hence the monitor; it is taken on connect,
 * disconnect and once per sweep, never per request. The sweep holds it while it destroys, so a client that
 * says HELLO is either counted back before the sweep looks, or after its expired pools are gone.
 */
public final class ClientLeases {
    private final long leaseMillis;
    private final Map<Long, Integer> openConnections = new HashMap<>();
    private final Map<Long, Long> lastSeenMillis = new HashMap<>();

    public ClientLeases(long leaseMillis) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("lease must be positive, got " + leaseMillis + " ms");
        }
        this.leaseMillis = leaseMillis;
    }

    public synchronized void connected(long clientId) {
        openConnections.merge(clientId, 1, Integer::sum);
        lastSeenMillis.remove(clientId);
    }

    public synchronized void disconnected(long clientId, long nowMillis) {
        Integer open = openConnections.get(clientId);
        if (open == null) {
            return;
        }
        if (open > 1) {
            openConnections.put(clientId, open - 1);
        } else {
            openConnections.remove(clientId);
            lastSeenMillis.put(clientId, nowMillis);
        }
    }

    /**
     * Hands every client whose lease ran out by {@code nowMillis} to {@code expire}, and forgets it.
     *
     * <p>{@code expire} runs under the same monitor as {@link #connected}: deciding that a client is away and
     * destroying its pools are one step. Were the monitor let go in between, a client could reconnect there and
     * create a pool, and the destroy would take that pool too, though the client is back. The cost is that a
     * HELLO waits while an expired client's pools are freed; it would wait on the store's lock anyway.
     */
    public synchronized void sweep(long nowMillis, LongConsumer expire) {
        List<Long> expired = new ArrayList<>();
        lastSeenMillis.forEach((clientId, seen) -> {
            if (nowMillis - seen >= leaseMillis) {
                expired.add(clientId);
            }
        });
        for (long clientId : expired) {
            lastSeenMillis.remove(clientId);
            expire.accept(clientId);
        }
    }

    public long leaseMillis() {
        return leaseMillis;
    }
}
