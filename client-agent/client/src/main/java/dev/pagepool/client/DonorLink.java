package dev.pagepool.client;

import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client's link to one donor: its connections, whether it is in service, and what is known of its free
 * memory. A donor is UP (placement and reads may use it) or DOWN (it failed a request, stopped answering, left
 * the cluster, or lost the client's pools). A DOWN donor is readmitted only through
 * {@link PagePoolClient}'s admission, which wipes whatever it still holds: after a freeze, its pages may be
 * older than copies written elsewhere meanwhile.
 */
final class DonorLink {
    enum State { UP, DOWN }

    private static final long RECONNECT_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long RECONNECT_MAX_NANOS = TimeUnit.SECONDS.toNanos(5);

    final int index;
    final InetSocketAddress address;
    private final DonorConnection[] connections;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private volatile State state = State.DOWN;
    private volatile String name;
    /** Free bytes the donor last reported, or {@link Long#MAX_VALUE} before any report. */
    private volatile long reportedFreeBytes = Long.MAX_VALUE;
    /** Bytes this client placed on the donor since its last report: what the report does not show yet. */
    private final AtomicLong placedSinceReport = new AtomicLong();
    private long nextAttemptNanos;
    private long backoffNanos;
    private final DonorConnection.DonorRequests requests;

    DonorLink(int index, InetSocketAddress address, int connectionsPerDonor, DonorConnection.DonorRequests requests) {
        this.index = index;
        this.requests = requests;
        this.address = address;
        this.connections = new DonorConnection[connectionsPerDonor];
        this.name = address.getHostString() + ":" + address.getPort();
    }

    State state() {
        return state;
    }

    boolean isUp() {
        return state == State.UP;
    }

    String name() {
        return name;
    }

    String addressKey() {
        return address.getHostString() + ":" + address.getPort();
    }

    /** Free memory for placement: the last report minus what was placed since. */
    long freeBytes() {
        long reported = reportedFreeBytes;
        return reported == Long.MAX_VALUE ? reported : reported - placedSinceReport.get();
    }

    void reportFree(long bytes) {
        reportedFreeBytes = bytes;
        placedSinceReport.set(0);
    }

    long placedSinceReport() {
        return placedSinceReport.get();
    }

    void placed(long bytes) {
        placedSinceReport.addAndGet(bytes);
    }

    /** Opens every connection (blocking, bounded by the connect timeout); closes them all on failure. */
    synchronized void open(Vertx vertx, ClientConfig config) {
        closeConnections();
        try {
            for (int c = 0; c < connections.length; c++) {
                connections[c] = DonorConnection.open(vertx, address, config, requests);
            }
            name = connections[0].donorName();
        } catch (RuntimeException e) {
            closeConnections();
            throw e;
        }
    }

    synchronized void markUp() {
        state = State.UP;
        backoffNanos = 0;
    }

    /** Takes the donor out of service; returns false if it already was. Its connections are closed. */
    synchronized boolean markDown() {
        if (state == State.DOWN) {
            return false;
        }
        state = State.DOWN;
        nextAttemptNanos = System.nanoTime() + RECONNECT_MIN_NANOS;
        closeConnections();
        return true;
    }

    /** Whether a readmission attempt is due; backs off between failed attempts. */
    synchronized boolean attemptDue() {
        return state == State.DOWN && System.nanoTime() - nextAttemptNanos >= 0;
    }

    synchronized void attemptFailed() {
        backoffNanos = Math.min(RECONNECT_MAX_NANOS, Math.max(RECONNECT_MIN_NANOS, backoffNanos * 2));
        nextAttemptNanos = System.nanoTime() + backoffNanos;
    }

    /** A connection for the next request, spread round robin. */
    DonorConnection pick() {
        int n = connections.length;
        return slot(n == 1 ? 0 : Math.floorMod(roundRobin.getAndIncrement(), n));
    }

    DonorConnection slot(int c) {
        DonorConnection conn = connections[c];
        if (conn == null) {
            throw new DonorUnavailableException("donor " + name + " is out of service");
        }
        return conn;
    }

    int connectionCount() {
        return connections.length;
    }

    /** Replaces a closed connection (the donor closed an idle one, say); bounded by the connect timeout. */
    synchronized DonorConnection reopen(int c, Vertx vertx, ClientConfig config) {
        DonorConnection conn = connections[c];
        if (conn != null && conn.isOpen()) {
            return conn;
        }
        if (state != State.UP) {
            throw new DonorUnavailableException("donor " + name + " is out of service");
        }
        DonorConnection fresh = DonorConnection.open(vertx, address, config, requests);
        connections[c] = fresh;
        return fresh;
    }

    synchronized void closeConnections() {
        for (int c = 0; c < connections.length; c++) {
            if (connections[c] != null) {
                connections[c].close();
                connections[c] = null;
            }
        }
    }
}
