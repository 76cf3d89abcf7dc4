package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.impl.NetSocketInternal;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection to one donor: sends request frames, matches replies to requests by id, and enforces the
 * in-flight window and the per-request timeout.
 *
 * <p>Nothing here blocks, whichever thread calls (see the package's threading contract). Requests are pipelined
 * and replies may come back in any order. At most {@code maxInflight} requests are on the wire; beyond that a
 * request waits in a bounded backlog, sent as replies free the window, and past {@link #BACKLOG_PER_WINDOW} times
 * the window it fails at once with {@link BusyException} (the caller's retry path backs off). A request, on the
 * wire or in the backlog, without a reply by its deadline fails with {@link DonorUnavailableException}, so a
 * frozen donor costs its callers one timeout, not a hang. Connecting and saying HELLO are asynchronous too.
 * Replies are read as raw Netty buffers and decoded in place.
 */
public final class DonorConnection implements DonorWire, AutoCloseable {
    /** How often deadlines are checked: the precision of the request timeout. */
    private static final long TIMEOUT_SWEEP_MILLIS = 50;
    private static final long TIMEOUT_SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(TIMEOUT_SWEEP_MILLIS);
    /**
     * Requests that may wait for a window slot, in windows: enough for a burst of every caller at once, small
     * enough that a donor which stopped answering holds a bounded amount of client memory.
     */
    static final int BACKLOG_PER_WINDOW = 4;
    /** Writes of one tick that still leave in one flush; past it, a flush goes out to keep the socket busy. */
    private static final int FLUSH_AFTER_WRITES = 64;
    /** Bounds of a read from the socket, sized by Netty from what the last reads found (see attach). */
    private static final int MIN_READ_BYTES = 2048;
    private static final int INITIAL_READ_BYTES = 64 * 1024;
    private static final int MAX_READ_BYTES = 1 << 20;

    /**
     * Requests a donor sends on this connection (HANDBACK). Called on the event loop; must hand the work off
     * and eventually answer through {@link #reply}. Owns {@code body} and must release it.
     */
    @FunctionalInterface
    public interface DonorRequests {
        void onRequest(DonorConnection conn, FrameHeader header, ByteBuf body);

        /**
         * The donor's end closed the connection; the client did not. Called on the event loop once the
         * connection's requests have failed; must not wait.
         */
        default void onClosedByDonor(DonorConnection conn) {
        }
    }

    private record Pending(CompletableFuture<DonorReply> future, long deadlineNanos) {
    }

    /** A request waiting for a window slot. */
    private record Queued(long requestId, ByteBuf frame, Pending pending) {
    }

    private final Vertx vertx;
    private final String name;
    private final ClientConfig config;
    private final NanoClock clock;
    /**
     * Time this connection's event loop could not run, added to every deadline: a reply that waited in the socket
     * while the loop itself was stalled (a host out of memory, a long GC, a frozen VM) was not late, and must not
     * cost the donor its good name. Written by the sweeping loop only.
     */
    private volatile long stalledNanos;
    /** When the last sweep ran, on the real clock: the loop's own stall is real time, whatever a test's clock says. */
    private long lastSweepRealNanos = System.nanoTime();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final Queue<Queued> backlog = new ConcurrentLinkedQueue<>();
    private final AtomicInteger backlogSize = new AtomicInteger();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final Semaphore window;
    private final DonorRequests requests;
    /** Where a BUSY pause waits: the client's conductor, on the client's clock. */
    private final BusyPauses pauses;
    private volatile NetSocketInternal socket;
    private volatile boolean closed;
    private volatile long sweeper = -1;
    private volatile NetClient netClient;
    private volatile String donorName;
    private volatile java.util.UUID donorId;
    private volatile long lastSendNanos;

    private DonorConnection(Vertx vertx, InetSocketAddress address, ClientConfig config, DonorRequests requests,
                            NanoClock clock, BusyPauses pauses) {
        this.requests = requests;
        this.pauses = pauses;
        this.vertx = vertx;
        this.clock = clock;
        this.name = address.getHostString() + ":" + address.getPort();
        this.config = config;
        this.window = new Semaphore(config.maxInflight());
        this.lastSendNanos = clock.nanoTime();
    }

    /**
     * Connects and says HELLO; completes with the open connection, or fails with a {@link PagePoolException}
     * (unreachable, wrong token) within about the connect timeout. Requests the donor sends go to
     * {@code requests} (refused when null).
     */
    static CompletableFuture<DonorConnection> open(Vertx vertx, InetSocketAddress address, ClientConfig config,
                                                   DonorRequests requests, NanoClock clock, BusyPauses pauses) {
        DonorConnection c = new DonorConnection(vertx, address, config, requests, clock, pauses);
        return c.connect(address).thenApply(v -> c);
    }

    private CompletableFuture<Void> connect(InetSocketAddress address) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        NetClientOptions options = new NetClientOptions()
            .setTcpNoDelay(true)
            .setConnectTimeout((int) config.connectTimeout().toMillis())
            .setSendBufferSize(1 << 20);
        // No receive buffer size: Vert.x would read every chunk into a fixed buffer of that size, and at 1 MiB the
        // pooled allocator builds and frees a whole chunk per read. The kernel autotunes the window; Netty sizes reads.
        if (config.tls().enabled()) {
            options.setSsl(true).setHostnameVerificationAlgorithm(config.tls().verifyHostname() ? "HTTPS" : "");
            if (config.tls().trustPem() != null) {
                options.setTrustOptions(new PemTrustOptions().addCertPath(config.tls().trustPem().toString()));
            }
            if (config.tls().certPem() != null) {
                options.setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions()
                    .setCertPath(config.tls().certPem().toString()).setKeyPath(config.tls().keyPem().toString()));
            }
        }
        netClient = vertx.createNetClient(options);
        netClient.connect(address.getPort(), address.getHostString()).onComplete(ar -> {
            if (ar.failed()) {
                closed = true;
                netClient.close();
                done.completeExceptionally(new DonorUnavailableException("cannot connect to donor " + name + ": "
                    + rootMessage(ar.cause())));
                return;
            }
            attach((NetSocketInternal) ar.result());
            hello().whenComplete((v, error) -> {
                if (error == null) {
                    done.complete(null);
                } else {
                    close(); // a donor that failed the handshake gets nothing more on this connection
                    done.completeExceptionally(PagePoolException.causeOf(error));
                }
            });
        });
        return done;
    }

    private void attach(NetSocketInternal s) {
        socket = s;
        // Requests written in one tick of the loop (a batch per donor, a caller's frame) leave in one flush.
        s.channelHandlerContext().pipeline().addBefore("handler", "flush-consolidation",
            new FlushConsolidationHandler(FLUSH_AFTER_WRITES, true));
        // A 64-page GET reply is 262 KiB. Netty reads at most 64 KiB a call by default, so a reply took five
        // recv calls (the last finding the socket empty) and was then copied from the reads into a body of its own.
        // Reads of up to 1 MiB take a whole reply in one call when it has arrived, and a body that arrived whole
        // is handed over as a slice of the read.
        s.channelHandlerContext().channel().config().setRecvByteBufAllocator(
            new AdaptiveRecvByteBufAllocator(MIN_READ_BYTES, INITIAL_READ_BYTES, MAX_READ_BYTES));
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, new FrameDecoder.BodyBuffers() {
            @Override
            public ByteBuf acquire(int bytes) {
                return PooledByteBufAllocator.DEFAULT.directBuffer(bytes);
            }

            @Override
            public boolean slicesWholeBodies() {
                return true;
            }
        }, new ReplyListener());
        s.messageHandler(msg -> {
            if (msg instanceof ByteBuf chunk) {
                try {
                    decoder.feed(chunk);
                } finally {
                    chunk.release();
                }
            }
        });
        s.closeHandler(v -> {
            boolean byDonor = !closed; // close() marks the connection closed before it closes the socket
            closed = true;
            decoder.close();
            vertx.cancelTimer(sweeper);
            netClient.close();
            failAll(new DonorUnavailableException("connection to donor " + name + " closed"));
            if (byDonor && requests != null) {
                requests.onClosedByDonor(this);
            }
        });
        sweeper = vertx.setPeriodic(TIMEOUT_SWEEP_MILLIS, id -> sweepTimeouts());
    }

    private CompletableFuture<Void> hello() {
        return ClientHandshake.run(name, config.token(), config.clientId(), config.poolSecret(), this::nextRequestId,
                (id, frame) -> send(id, frame, config.connectTimeout()))
            .thenAccept(result -> {
                donorName = result.donorName();
                donorId = result.donorId();
            });
    }

    @Override
    public long nextRequestId() {
        return nextRequestId.getAndIncrement();
    }

    /**
     * Sends a frame already written with request id {@code requestId}; never waits. The returned future
     * completes with the reply, or fails with a {@link PagePoolException}: the donor's status, a timeout, a closed
     * connection, or {@link BusyException} when the window and the backlog are both full.
     */
    @Override
    public CompletableFuture<DonorReply> send(long requestId, ByteBuf frame) {
        return send(requestId, frame, config.requestTimeout());
    }

    private CompletableFuture<DonorReply> send(long requestId, ByteBuf frame, Duration timeout) {
        CompletableFuture<DonorReply> future = new CompletableFuture<>();
        if (closed) {
            frame.release();
            future.completeExceptionally(new DonorUnavailableException("connection to donor " + name + " is closed"));
            return future;
        }
        Pending p = new Pending(future, liveNanos() + timeout.toNanos());
        if (window.tryAcquire()) {
            write(requestId, frame, p);
            return future;
        }
        if (backlogSize.incrementAndGet() > BACKLOG_PER_WINDOW * config.maxInflight()) {
            backlogSize.decrementAndGet();
            frame.release();
            future.completeExceptionally(new BusyException("connection to donor " + name + " has "
                + config.maxInflight() + " requests on the wire and " + BACKLOG_PER_WINDOW * config.maxInflight()
                + " waiting"));
            return future;
        }
        backlog.add(new Queued(requestId, frame, p));
        // A reply may have freed the window between the failed tryAcquire and the add.
        drainBacklog();
        return future;
    }

    /** Sends waiting requests while the window has room. */
    private void drainBacklog() {
        while (!backlog.isEmpty() && window.tryAcquire()) {
            Queued q = backlog.poll();
            if (q == null) {
                window.release();
                return;
            }
            backlogSize.decrementAndGet();
            write(q.requestId(), q.frame(), q.pending());
        }
    }

    /** Puts a request on the wire; the caller holds a window slot for it. */
    private void write(long requestId, ByteBuf frame, Pending p) {
        if (closed) {
            window.release();
            frame.release();
            p.future().completeExceptionally(new DonorUnavailableException("connection to donor " + name + " is closed"));
            return;
        }
        lastSendNanos = clock.nanoTime();
        pending.put(requestId, p);
        socket.write(Buffer.buffer(frame)).onComplete(ar -> {
            frame.release();
            if (ar.failed()) {
                fail(requestId, new DonorUnavailableException("write to donor " + name + " failed: " + ar.cause()));
            }
        });
        if (closed) {
            // Closed while writing: the close handler's sweep may have run before the put.
            fail(requestId, new DonorUnavailableException("connection to donor " + name + " closed"));
        }
    }

    /** Writes the answer to a request the donor sent; takes ownership of {@code frame}. */
    public void reply(ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        socket.write(Buffer.buffer(frame)).onComplete(ar -> frame.release());
    }

    @Override
    public String name() {
        return name;
    }

    /** The name the donor gave in its HELLO reply. */
    /** The donor's id from its HELLO reply, or null when it sends none. */
    public java.util.UUID donorId() {
        return donorId;
    }

    public String donorName() {
        return donorName;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** Requests on the wire and waiting for the window: what a test looks at. */
    int outstanding() {
        return pending.size() + backlogSize.get();
    }

    @Override
    public void close() {
        closed = true;
        if (sweeper >= 0) {
            vertx.cancelTimer(sweeper);
        }
        if (socket != null) {
            socket.close();
        }
        if (netClient != null) {
            netClient.close();
        }
        failAll(new DonorUnavailableException("connection to donor " + name + " closed by this client"));
    }

    /** The clock that deadlines are on: the injected one, less the time the loop was stalled. */
    private long liveNanos() {
        return clock.nanoTime() - stalledNanos;
    }

    private void sweepTimeouts() {
        long real = System.nanoTime();
        // A sweep later than two periods means the loop did not run meanwhile; replies may sit unread in the socket.
        long late = real - lastSweepRealNanos - 2 * TIMEOUT_SWEEP_NANOS;
        lastSweepRealNanos = real;
        if (late > 0) {
            stalledNanos += late;
        }
        long now = clock.nanoTime();
        long live = now - stalledNanos;
        // Donors close connections idle for their idle timeout and destroy a client's private pools when its
        // lease runs out after its last connection closed: a client that is merely quiet must not look gone.
        if (!closed && now - lastSendNanos > config.keepAlive().toNanos() && pending.isEmpty()) {
            keepAlive();
        }
        pending.forEach((id, p) -> {
            if (live - p.deadlineNanos() > 0) {
                fail(id, new DonorUnavailableException("donor " + name + " did not answer request " + id
                    + " within " + config.requestTimeout().toMillis() + " ms"));
            }
        });
        for (Queued q : backlog) {
            if (live - q.pending().deadlineNanos() > 0 && backlog.remove(q)) {
                backlogSize.decrementAndGet();
                q.frame().release();
                q.pending().future().completeExceptionally(new DonorUnavailableException("donor " + name
                    + " left request " + q.requestId() + " waiting for a window slot for "
                    + config.requestTimeout().toMillis() + " ms"));
            }
        }
    }

    /** Sends a PING when the window has room; its reply is simply released. */
    private void keepAlive() {
        lastSendNanos = clock.nanoTime();
        if (!window.tryAcquire()) {
            return; // requests are under way: the connection is not idle after all
        }
        long id = nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + 8);
        FrameWriter.ping(frame, id, id);
        CompletableFuture<DonorReply> future = new CompletableFuture<>();
        future.whenComplete((r, e) -> {
            if (r != null) {
                r.body().release();
            }
        });
        write(id, frame, new Pending(future, liveNanos() + config.requestTimeout().toNanos()));
    }

    private void fail(long requestId, PagePoolException e) {
        Pending p = pending.remove(requestId);
        if (p != null) {
            window.release();
            p.future().completeExceptionally(e);
            drainBacklog();
        }
    }

    private void failAll(PagePoolException e) {
        for (Long id : pending.keySet()) {
            fail(id, e);
        }
        for (Queued q; (q = backlog.poll()) != null; ) {
            backlogSize.decrementAndGet();
            q.frame().release();
            q.pending().future().completeExceptionally(e);
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private final class ReplyListener implements FrameDecoder.Listener {
        @Override
        public void onFrame(FrameHeader header, ByteBuf body) {
            if (!header.isResponse()) {
                // The donor's own request (HANDBACK), numbered in the donor's id space, not one of ours.
                if (requests != null) {
                    requests.onRequest(DonorConnection.this, header, body);
                } else {
                    refuse(header, body);
                }
                return;
            }
            Pending p = pending.remove(header.requestId());
            if (p == null) {
                body.release(); // the request timed out; its late reply is dropped
                return;
            }
            window.release();
            settle(p.future(), header, body, name);
            drainBacklog();
        }

        @Override
        public void onRejected(FrameHeader header, ProtocolException error) {
            fail(header.requestId(), new ProtocolViolationException("reply from " + name + " unreadable: " + error.getMessage()));
        }

        @Override
        public void onFramingLost(ProtocolException error) {
            closed = true;
            socket.close();
            failAll(new ProtocolViolationException("donor " + name + " broke the protocol: " + error.getMessage()));
        }
    }

    /** Answers a donor request nobody here takes: every page of a HANDBACK stays with the donor. */
    private void refuse(FrameHeader header, ByteBuf body) {
        try {
            if (header.opcode() == Opcode.HANDBACK) {
                int count = Bodies.count(body);
                byte[] statuses = new byte[count];
                java.util.Arrays.fill(statuses, (byte) Status.PAGE_REJECTED);
                ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
                FrameWriter.handbackReply(frame, header.requestId(), statuses, count);
                reply(frame);
            }
        } finally {
            body.release();
        }
    }

    /** Completes a request with its reply: the reply itself on OK, else the exception its status names. */
    static void settle(CompletableFuture<DonorReply> future, FrameHeader header, ByteBuf body, String donor) {
        if (header.status() != Status.OK) {
            String message = Bodies.errorMessage(body);
            body.release();
            future.completeExceptionally(refusal(header.status(), donor, message));
        } else {
            future.complete(new DonorReply(header, body));
        }
    }

    /** The exception for a non-OK request status from a donor. */
    private static PagePoolException refusal(int status, String donor, String message) {
        String text = message + " (donor " + donor + ")";
        return switch (status) {
            case Status.UNAUTHENTICATED -> new UnauthenticatedException(text);
            case Status.NO_SUCH_POOL -> new NoSuchPoolException(text);
            case Status.BAD_SECRET -> new BadSecretException(text);
            case Status.BUSY -> new BusyException(text);
            default -> new PagePoolException(status, text);
        };
    }

    /**
     * A BUSY pause kept by the client's conductor ({@link BusyPauses}) on the client's clock: it holds no thread, and
     * the frame goes again from this connection's event loop, never from the conductor's thread or a pool thread the
     * threading contract does not list.
     */
    @Override
    public CompletableFuture<Void> after(long micros) {
        NetSocketInternal s = socket;
        return pauses.pause(micros, s != null ? s.channelHandlerContext().executor() : vertx.nettyEventLoopGroup().next());
    }
}
