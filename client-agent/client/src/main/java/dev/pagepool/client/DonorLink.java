package dev.pagepool.client;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client's link to one donor: its connections, whether it is in service, and what is known of its free
 * memory. A donor is UP (placement and reads may use it), SUSPECT (it stopped answering: its copies stay on the
 * map but are neither read nor written until it answers again and is checked), DOWN (gone: it lost the client's
 * pools, broke the protocol, or stayed silent past the stall bound; its copies were forgotten), or REMOVED (it
 * was removed, or went out of service after every member that advertised it left the cluster; its index may be
 * given to a new donor). A SUSPECT donor comes back fenced and checked
 * ({@link CopyFailure}); a DOWN one is readmitted only with whatever it still holds wiped.
 */
final class DonorLink {
    enum State { UP, SUSPECT, DOWN, REMOVED }

    private static final long RECONNECT_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long RECONNECT_MAX_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Opens one connection to this donor; the donor set supplies it, with its Vert.x, config and clock. */
    @FunctionalInterface
    interface Connector {
        CompletableFuture<DonorConnection> open(InetSocketAddress address);
    }

    final int index;
    final InetSocketAddress address;
    private final DonorConnection[] connections;
    /** A reconnect under way per slot, so that concurrent requests share it instead of each opening one. */
    private final CompletableFuture<DonorConnection>[] reopening;
    private final AtomicInteger roundRobin = new AtomicInteger();
    /** The cluster members that advertise this donor's address; the first one speaks for it. */
    final Advertisers advertisers = new Advertisers();
    private final NanoClock clock;
    private volatile State state = State.DOWN;
    private volatile String name;
    /** The id the donor gave in its handshake: the donor's identity, whatever address reached it. */
    private volatile java.util.UUID donorId;
    /** Free bytes the donor last reported, or {@link Long#MAX_VALUE} before any report. */
    private volatile long reportedFreeBytes = Long.MAX_VALUE;
    /** What the donor said of its own memory in its last STATS: the bound on loads published for it. */
    final StatedLoad stated = new StatedLoad();
    /** Bytes this client placed on the donor since its last report: what the report does not show yet. */
    private final AtomicLong placedSinceReport = new AtomicLong();
    private long nextAttemptNanos;
    private long lastProbeNanos = Long.MIN_VALUE;
    private static final long PROBE_INTERVAL_NANOS = 1_000_000_000L;
    private long backoffNanos;
    /** When the donor last went SUSPECT: past the stall bound it is taken for gone. */
    private long suspectSinceNanos;

    @SuppressWarnings("unchecked")
    DonorLink(int index, InetSocketAddress address, int connectionsPerDonor, NanoClock clock) {
        this.index = index;
        this.address = address;
        this.clock = clock;
        this.connections = new DonorConnection[connectionsPerDonor];
        this.reopening = new CompletableFuture[connectionsPerDonor];
        this.name = addressKey(address);
        this.nextAttemptNanos = clock.nanoTime();
    }

    static String addressKey(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    State state() {
        return state;
    }

    boolean isUp() {
        return state == State.UP;
    }

    boolean isSuspect() {
        return state == State.SUSPECT;
    }

    boolean isRemoved() {
        return state == State.REMOVED;
    }

    String name() {
        return name;
    }

    /** The donor's id from its last handshake, or null before one (or from a donor that sends none). */
    java.util.UUID donorId() {
        return donorId;
    }

    String addressKey() {
        return addressKey(address);
    }

    /** Free memory for placement: the last report minus what was placed since. */
    long freeBytes() {
        long reported = reportedFreeBytes;
        return reported == Long.MAX_VALUE ? reported : reported - placedSinceReport.get();
    }

    /** The free bytes last reported, or {@link Long#MAX_VALUE} before any report. */
    long reportedFreeBytes() {
        return reportedFreeBytes;
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

    /** Opens every connection; on failure closes those that opened and fails with the first error. */
    CompletableFuture<Void> open(Connector connector) {
        closeConnections();
        CompletableFuture<?>[] opened = new CompletableFuture<?>[connections.length];
        for (int c = 0; c < connections.length; c++) {
            opened[c] = connector.open(address);
        }
        return CompletableFuture.allOf(opened).handle((v, error) -> {
            synchronized (this) {
                for (int c = 0; c < connections.length; c++) {
                    DonorConnection conn = opened[c].isCompletedExceptionally() ? null : (DonorConnection) opened[c].join();
                    if (error != null && conn != null) {
                        conn.close();
                    } else if (error == null) {
                        connections[c] = conn;
                    }
                }
                if (error == null) {
                    name = connections[0].donorName();
                    donorId = connections[0].donorId();
                }
            }
            if (error != null) {
                throw new java.util.concurrent.CompletionException(PagePoolException.causeOf(error));
            }
            return null;
        });
    }

    synchronized void markUp() {
        if (state != State.REMOVED) {
            state = State.UP;
            backoffNanos = 0;
        }
    }

    /**
     * The link's state only: DOWN, from UP or SUSPECT; returns false if it already was. Its connections stay open:
     * {@link DonorSet#takeOutOfService} forgets the donor's copies first and closes them after, so that requests
     * failing on the close are placed again on donors that are still in service, never on this one.
     */
    synchronized boolean enterDown() {
        if (state != State.UP && state != State.SUSPECT) {
            return false;
        }
        state = State.DOWN;
        nextAttemptNanos = clock.nanoTime() + RECONNECT_MIN_NANOS;
        return true;
    }

    /**
     * The link's state only: SUSPECT, from UP (the donor stopped answering); returns false if it was not UP. What
     * that means for its copies is {@link DonorSet#treatAsSuspect}'s business.
     */
    synchronized boolean enterSuspect() {
        if (state != State.UP) {
            return false;
        }
        state = State.SUSPECT;
        suspectSinceNanos = clock.nanoTime();
        nextAttemptNanos = suspectSinceNanos + RECONNECT_MIN_NANOS;
        backoffNanos = 0;
        return true;
    }

    /**
     * A donor a resumed pool names (a previous process placed copies on it): suspect from now on, whatever its
     * state, so that it is fenced and checked before its copies are read.
     */
    synchronized void markResumed() {
        if (state != State.REMOVED) {
            state = State.SUSPECT;
            suspectSinceNanos = clock.nanoTime();
            nextAttemptNanos = suspectSinceNanos;
            backoffNanos = 0;
        }
    }

    /** Whether the donor has been SUSPECT for at least {@code boundNanos}. */
    synchronized boolean suspectLongerThan(long boundNanos) {
        return state == State.SUSPECT && clock.nanoTime() - suspectSinceNanos >= boundNanos;
    }

    /** The donor left the cluster: never readmitted, its index free for another donor. */
    synchronized void remove() {
        state = State.REMOVED;
    }

    /** Whether a readmission attempt is due; backs off between failed attempts. */
    synchronized boolean attemptDue() {
        return (state == State.DOWN || state == State.SUSPECT) && clock.nanoTime() - nextAttemptNanos >= 0;
    }

    synchronized void attemptFailed() {
        // A suspect donor is tried at the shortest pace: every read waiting on it waits for this.
        long most = state == State.SUSPECT ? RECONNECT_MIN_NANOS : RECONNECT_MAX_NANOS;
        backoffNanos = Math.min(most, Math.max(RECONNECT_MIN_NANOS, backoffNanos * 2));
        nextAttemptNanos = clock.nanoTime() + backoffNanos;
    }

    /** The slot of the connection for the next request, spread round robin. */
    int pickSlot() {
        int n = connections.length;
        return n == 1 ? 0 : Math.floorMod(roundRobin.getAndIncrement(), n);
    }

    /** The connection in slot {@code c}, or null when there is none. */
    synchronized DonorConnection slot(int c) {
        return connections[c];
    }

    /**
     * Whether a connection the donor closed may be followed by a probe of its port now: once a second per donor,
     * so a donor closing many connections at once (its idle timeout) is probed once.
     */
    synchronized boolean mayProbeNow() {
        long now = clock.nanoTime();
        if (lastProbeNanos != Long.MIN_VALUE && now - lastProbeNanos < PROBE_INTERVAL_NANOS) {
            return false;
        }
        lastProbeNanos = now;
        return true;
    }

    int connectionCount() {
        return connections.length;
    }

    /**
     * A reconnect of slot {@code c} (the donor closed an idle connection, say): {@code verify} checks the fresh
     * connection before it is used (the donor may have restarted and lost this client's pools). Concurrent callers
     * share one attempt. Never waits.
     */
    synchronized CompletableFuture<DonorConnection> reopen(int c, Connector connector,
            java.util.function.Function<DonorConnection, CompletableFuture<DonorConnection>> verify) {
        DonorConnection conn = connections[c];
        if (conn != null && conn.isOpen()) {
            return CompletableFuture.completedFuture(conn);
        }
        if (state != State.UP) {
            return CompletableFuture.failedFuture(new DonorUnavailableException("donor " + name + " is out of service"));
        }
        if (reopening[c] != null) {
            return reopening[c];
        }
        CompletableFuture<DonorConnection> attempt = connector.open(address).thenCompose(fresh -> verify.apply(fresh)
            .whenComplete((ok, error) -> {
                if (error != null) {
                    fresh.close();
                }
            }));
        reopening[c] = attempt;
        attempt.whenComplete((fresh, error) -> {
            synchronized (this) {
                reopening[c] = null;
                if (error == null && state == State.UP) {
                    connections[c] = fresh;
                } else if (error == null) {
                    fresh.close(); // taken out of service meanwhile
                }
            }
        });
        return attempt;
    }

    void closeConnections() {
        DonorConnection[] open;
        synchronized (this) {
            open = connections.clone();
            java.util.Arrays.fill(connections, null);
        }
        // Closed outside the monitor: closing fails the requests in flight, and their callbacks run here.
        for (DonorConnection conn : open) {
            if (conn != null) {
                conn.close();
            }
        }
    }
}
