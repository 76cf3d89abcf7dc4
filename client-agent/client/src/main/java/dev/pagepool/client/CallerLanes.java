package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs a synchronous call on the caller's own thread: the replicated put or get is the same code as everywhere,
 * but the frames it sends to a donor go out on the thread's {@link CallerLane} to that donor, and the thread reads
 * the replies itself, running the call's next steps as they come, until the call is done. No thread hand-off
 * remains between the caller and the donor.
 *
 * <p>What stays the same as on the event-loop connections, so that the call's outcome is the same: a reply that
 * does not come within the request timeout fails the request as a donor that is gone (the sweeper closes the
 * lane); a donor taken out of service has its lanes closed with its other connections, so a request under way
 * there fails and is placed again; a lane opened to a donor checks the donor still has this client's pools, as a
 * reconnect does. What is different: a BUSY answer is retried after a pause taken on the caller's thread, not a
 * timer's; and the first call that needs a donor this thread has no lane to goes over the event-loop connection
 * while the lane is opened before the thread's next call, so a call never waits for a connect midway.
 *
 * <p>Only for a caller that is alone: when other synchronous single-page calls are under way, the call goes to
 * the coalescer instead, whose frames carry the pages of every caller of the moment. Not used on event loops (they
 * never block), nor with TLS (a lane is a plain socket), nor for shared pools (a lane would have to present each
 * pool joined after it opened).
 */
final class CallerLanes implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CallerLanes.class.getName());
    /** Lanes of one client at most: past it, threads call through the event loops. */
    static final int MAX_LANES = 256;
    private static final long SWEEP_MILLIS = 50;
    /** A lane that failed to open is not tried again for this long. */
    private static final long RETRY_OPEN_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One thread's lanes of one client, by donor index; touched by that thread only. */
    private static final class Lanes {
        final CallerLane[] byDonor = new CallerLane[DonorIndexes.MAX_DONORS];
        /** The donors a call of this thread found no lane to: lanes opened before its next call. */
        final DonorLink[] wanted = new DonorLink[DonorIndexes.MAX_DONORS];
        /** When a lane that failed to open may be tried again; meaningful where {@code openFailed}. */
        final long[] retryAt = new long[DonorIndexes.MAX_DONORS];
        final boolean[] openFailed = new boolean[DonorIndexes.MAX_DONORS];
        /** Whether this thread is in a call on these lanes (a call made from one of its steps does not use them). */
        boolean inCall;
        /** The wires of this thread's calls: one object, valid while a call runs, so a call allocates none. */
        final CallWires wires = new CallWires(this);
    }

    /**
     * The wires of one call on its caller's thread: that thread's lane to a donor where it has one, else the
     * event-loop connections. Only while the call runs on its thread: a step that continues on an event loop
     * after {@link #run} returned, or on another thread, goes over the event-loop connections, since nobody reads
     * the lanes then.
     */
    private static final class CallWires implements WireSource {
        private final Lanes lanes;
        private final Thread caller = Thread.currentThread();
        /** The event-loop connections; set by the caller before each call. */
        private volatile WireSource shared;
        private volatile boolean running;

        CallWires(Lanes lanes) {
            this.lanes = lanes;
        }

        @Override
        public CompletableFuture<DonorWire> connection(DonorLink link) {
            if (running && Thread.currentThread() == caller && link.isUp()) {
                CallerLane lane = lanes.byDonor[link.index];
                if (lane != null && lane.link == link && lane.isOpen()) {
                    return CompletableFuture.completedFuture(lane); // on its caller's own connection
                }
                lanes.wanted[link.index] = link;
            }
            return shared.connection(link);
        }
    }

    private final ClientConfig config;
    private final NanoClock clock;
    private final PoolCheck poolCheck;
    private final Vertx vertx;
    private final boolean enabled;
    private final ThreadLocal<Lanes> mine = ThreadLocal.withInitial(Lanes::new);
    private final Set<CallerLane> all = ConcurrentHashMap.newKeySet();
    /** Synchronous single-page calls under way, on lanes or coalesced. */
    private final java.util.concurrent.atomic.AtomicInteger callsUnderWay = new java.util.concurrent.atomic.AtomicInteger();
    private final long sweeper;
    private volatile boolean closed;

    CallerLanes(ClientConfig config, Vertx vertx, NanoClock clock, PoolCheck poolCheck) {
        this.config = config;
        this.clock = clock;
        this.poolCheck = poolCheck;
        this.vertx = vertx;
        this.enabled = !config.tls().enabled();
        this.sweeper = enabled ? vertx.setPeriodic(SWEEP_MILLIS, id -> sweep()) : -1;
    }

    /**
     * A synchronous single-page call: on this thread's lanes when it is the only such call under way, else
     * {@code together}, the coalescer, so that the pages of threads calling at once still share frames (a batch is
     * one request). Lanes buy a lone caller its latency; many callers gain more from vectors. {@code onLanes} is
     * given the wires its frames go out on; {@code shared} are the event-loop connections.
     */
    <T> T call(boolean eligible, WireSource shared, Function<WireSource, CompletableFuture<T>> onLanes,
               Supplier<CompletableFuture<T>> together) {
        boolean alone = callsUnderWay.incrementAndGet() == 1;
        try {
            return ClientThreads.join(eligible && alone ? run(shared, onLanes) : together.get());
        } finally {
            callsUnderWay.decrementAndGet();
        }
    }

    /**
     * Starts {@code call} on this thread and carries it as far as its lanes go; the future is then done, or waits
     * on the event-loop connections only.
     */
    <T> CompletableFuture<T> run(WireSource shared, Function<WireSource, CompletableFuture<T>> call) {
        if (!enabled || closed || Context.isOnEventLoopThread()) {
            return call.apply(shared);
        }
        Lanes lanes = mine.get();
        if (lanes.inCall) {
            // A call made from inside another one's step: its frames go over the event loops, since nobody would
            // read this thread's lanes while it waits for it.
            return call.apply(shared);
        }
        lanes.inCall = true;
        CallWires wires = lanes.wires;
        wires.shared = shared;
        wires.running = true;
        try {
            prepare(lanes);
            CompletableFuture<T> future = call.apply(wires);
            pump(lanes, future);
            return future;
        } finally {
            wires.running = false;
            lanes.inCall = false;
            for (CallerLane lane : lanes.byDonor) {
                if (lane != null) {
                    lane.release();
                }
            }
        }
    }

    /** The donor left service: its lanes close, and requests under way on them fail. Any thread. */
    void closeLanesTo(DonorLink link) {
        for (CallerLane lane : all) {
            if (lane.link == link) {
                lane.close();
            }
        }
    }

    /**
     * Reads replies while the call has requests on this thread's lanes; what is left after that runs on event
     * loops. A reply read on one lane may send the call's next frame on another, hence the rescan.
     */
    private static void pump(Lanes lanes, CompletableFuture<?> future) {
        for (boolean readSome = true; readSome && !future.isDone(); ) {
            readSome = false;
            for (CallerLane lane : lanes.byDonor) {
                if (lane != null && lane.hasPending()) {
                    lane.readUntil(future);
                    readSome = true;
                }
            }
        }
    }

    /** Takes this thread's lanes for the call; lets closed ones go, and opens the ones the last calls wanted. */
    private void prepare(Lanes lanes) {
        long now = clock.nanoTime();
        for (int d = 0; d < lanes.byDonor.length; d++) {
            CallerLane lane = lanes.byDonor[d];
            if (lane != null && (lane.link.isRemoved() || !lane.acquire())) {
                // Closed (its donor left service), or the index now names a donor that joined since.
                lanes.byDonor[d] = null;
                lanes.wanted[d] = lane.link.isRemoved() ? lanes.wanted[d] : lane.link;
                lane.dispose();
                all.remove(lane);
            }
            DonorLink wanted = lanes.wanted[d];
            if (wanted != null && wanted.isRemoved()) {
                lanes.wanted[d] = null;
            } else if (wanted != null && lanes.byDonor[d] == null && (!lanes.openFailed[d] || now - lanes.retryAt[d] >= 0)
                    && all.size() < MAX_LANES) {
                lanes.wanted[d] = null;
                lanes.byDonor[d] = open(wanted);
                lanes.openFailed[d] = lanes.byDonor[d] == null;
                lanes.retryAt[d] = now + RETRY_OPEN_NANOS;
            }
        }
    }

    /** Connects, says HELLO for a calls-only connection and checks the pools, on this thread; null if that fails. */
    private CallerLane open(DonorLink link) {
        if (!link.isUp()) {
            return null;
        }
        CallerLane lane;
        try {
            lane = CallerLane.connect(link, config, clock);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "no lane to donor " + link.name() + ": " + e);
            return null;
        }
        all.add(lane);
        CompletableFuture<CallerLane> ready = ClientHandshake.run(link.name(), config.token(), config.clientId(), config.poolSecret(),
                lane::nextRequestId, lane::send, Frame.HELLO_CALLS_ONLY)
            .thenCompose(result -> poolCheck.verify(link, lane));
        lane.readUntil(ready);
        if (!ready.isDone() || ready.isCompletedExceptionally() || !link.isUp() || closed) {
            // A donor that lost this client's pools is the event-loop connections' to find out about: they check
            // the pools again on their own reconnect and take the donor out of service.
            LOG.log(Level.FINE, "no lane to donor " + link.name(), ready.handle((v, e) -> e).getNow(null));
            lane.dispose();
            all.remove(lane);
            return null;
        }
        return lane;
    }

    private void sweep() {
        long now = clock.nanoTime();
        long idle = config.keepAlive().toNanos();
        for (CallerLane lane : all) {
            if (lane.sweep(now, idle)) {
                all.remove(lane);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        if (sweeper >= 0) {
            vertx.cancelTimer(sweeper);
        }
        for (CallerLane lane : all) {
            lane.close();
        }
    }
}
