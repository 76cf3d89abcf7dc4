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
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.impl.NetSocketInternal;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One TCP connection to one donor: sends request frames, matches replies to requests by id, and enforces
 * the in-flight window and the per-request timeout.
 *
 * <p>Requests are pipelined and replies may come back in any order. At most {@code maxInflight} requests are
 * outstanding; a caller beyond that waits (bounded by the request timeout) instead of queueing without limit.
 * A request without a reply by its deadline fails with {@link DonorUnavailableException}, so a frozen donor
 * costs its callers a timeout, not a hang. Replies are read as raw Netty buffers and decoded in place.
 */
public final class DonorConnection implements AutoCloseable {
    /** How often deadlines are checked: the precision of the request timeout. */
    private static final long TIMEOUT_SWEEP_MILLIS = 50;

    /**
     * Requests a donor sends on this connection (HANDBACK). Called on the event loop; must hand the work off
     * and eventually answer through {@link #reply}. Owns {@code body} and must release it.
     */
    @FunctionalInterface
    public interface DonorRequests {
        void onRequest(DonorConnection conn, FrameHeader header, ByteBuf body);
    }

    /** A successful reply; the caller owns {@code body} and must release it. */
    public record Reply(FrameHeader header, ByteBuf body) {
    }

    private record Pending(CompletableFuture<Reply> future, long deadlineNanos) {
    }

    private final Vertx vertx;
    private final String name;
    private final ClientConfig config;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextRequestId = new AtomicLong(1);
    private final Semaphore window;
    private volatile NetSocketInternal socket;
    private volatile boolean closed;
    private long sweeper = -1;
    private NetClient netClient;
    private volatile String donorName;
    private volatile long lastSendNanos = System.nanoTime();
    private final DonorRequests requests;

    private DonorConnection(Vertx vertx, InetSocketAddress address, ClientConfig config, DonorRequests requests) {
        this.requests = requests;
        this.vertx = vertx;
        this.name = address.getHostString() + ":" + address.getPort();
        this.config = config;
        this.window = new Semaphore(config.maxInflight());
    }

    /** Connects and says HELLO; blocks at most the connect timeout. */
    public static DonorConnection open(Vertx vertx, InetSocketAddress address, ClientConfig config) {
        return open(vertx, address, config, null);
    }

    /** Connects and says HELLO; requests the donor sends go to {@code requests} (refused when null). */
    public static DonorConnection open(Vertx vertx, InetSocketAddress address, ClientConfig config, DonorRequests requests) {
        DonorConnection c = new DonorConnection(vertx, address, config, requests);
        c.connect(address);
        return c;
    }

    private void connect(InetSocketAddress address) {
        NetClientOptions options = new NetClientOptions()
            .setTcpNoDelay(true)
            .setConnectTimeout((int) config.connectTimeout().toMillis())
            .setReceiveBufferSize(1 << 20)
            .setSendBufferSize(1 << 20);
        if (config.tls().enabled()) {
            options.setSsl(true).setHostnameVerificationAlgorithm(config.tls().verifyHostname() ? "HTTPS" : "");
            if (config.tls().trustPem() != null) {
                options.setTrustOptions(new PemTrustOptions().addCertPath(config.tls().trustPem().toString()));
            }
        }
        netClient = vertx.createNetClient(options);
        try {
            socket = (NetSocketInternal) netClient.connect(address.getPort(), address.getHostString())
                .toCompletionStage().toCompletableFuture()
                .get(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            netClient.close();
            throw new DonorUnavailableException("cannot connect to donor " + name + ": " + rootMessage(e));
        }
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES,
            bytes -> PooledByteBufAllocator.DEFAULT.directBuffer(bytes), new ReplyListener());
        socket.messageHandler(msg -> {
            if (msg instanceof ByteBuf chunk) {
                try {
                    decoder.feed(chunk);
                } finally {
                    chunk.release();
                }
            }
        });
        socket.closeHandler(v -> {
            closed = true;
            decoder.close();
            vertx.cancelTimer(sweeper);
            netClient.close();
            failAll(new DonorUnavailableException("connection to donor " + name + " closed"));
        });
        sweeper = vertx.setPeriodic(TIMEOUT_SWEEP_MILLIS, id -> sweepTimeouts());
        hello();
    }

    private void hello() {
        try {
            donorName = await(ClientHandshake.run(name, config.token(), config.clientId(), this::nextRequestId, this::send),
                config.connectTimeout().toMillis()).donorName();
        } catch (RuntimeException e) {
            close(); // a donor that failed the handshake gets nothing more on this connection
            throw e;
        }
    }

    public long nextRequestId() {
        return nextRequestId.getAndIncrement();
    }

    /** A buffer for one outgoing frame; {@link #send} releases it once written. */
    public static ByteBuf allocate(int bytes) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
    }

    /**
     * Sends a frame already written with request id {@code requestId}. Waits for a window slot (at most the
     * request timeout). The returned future completes with the reply, or fails with a {@link PagePoolException}.
     */
    public CompletableFuture<Reply> send(long requestId, ByteBuf frame) {
        CompletableFuture<Reply> future = new CompletableFuture<>();
        if (closed) {
            frame.release();
            future.completeExceptionally(new DonorUnavailableException("connection to donor " + name + " is closed"));
            return future;
        }
        try {
            if (!window.tryAcquire(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                frame.release();
                future.completeExceptionally(new DonorUnavailableException(
                    "donor " + name + " left " + config.maxInflight() + " requests unanswered for " + config.requestTimeout()));
                return future;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            frame.release();
            future.completeExceptionally(new DonorUnavailableException("interrupted waiting to send to " + name));
            return future;
        }
        lastSendNanos = System.nanoTime();
        pending.put(requestId, new Pending(future, lastSendNanos + config.requestTimeout().toNanos()));
        socket.write(Buffer.buffer(frame)).onComplete(ar -> {
            frame.release();
            if (ar.failed()) {
                fail(requestId, new DonorUnavailableException("write to donor " + name + " failed: " + ar.cause()));
            }
        });
        return future;
    }

    /** Writes the answer to a request the donor sent; takes ownership of {@code frame}. */
    public void reply(ByteBuf frame) {
        if (closed) {
            frame.release();
            return;
        }
        socket.write(Buffer.buffer(frame)).onComplete(ar -> frame.release());
    }

    /** Waits for a reply, unwrapping the failure into the exception the donor's status names. */
    public static <T> T await(CompletableFuture<T> future, long timeoutMillis) {
        try {
            return future.get(timeoutMillis + TIMEOUT_SWEEP_MILLIS * 4, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof PagePoolException p) {
                throw p;
            }
            throw new PagePoolException(Status.INTERNAL, rootMessage(e));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new DonorUnavailableException("no reply within " + timeoutMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DonorUnavailableException("interrupted");
        }
    }

    public <T> T await(CompletableFuture<T> future) {
        return await(future, config.requestTimeout().toMillis());
    }

    public String name() {
        return name;
    }

    /** The name the donor gave in its HELLO reply. */
    public String donorName() {
        return donorName;
    }

    public boolean isOpen() {
        return !closed;
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

    private void sweepTimeouts() {
        long now = System.nanoTime();
        // Donors close connections idle for their idle timeout and destroy a client's private pools when its
        // lease runs out after its last connection closed: a client that is merely quiet must not look gone.
        if (!closed && now - lastSendNanos > config.keepAlive().toNanos() && pending.isEmpty()) {
            keepAlive();
        }
        pending.forEach((id, p) -> {
            if (now - p.deadlineNanos() > 0) {
                fail(id, new DonorUnavailableException("donor " + name + " did not answer request " + id
                    + " within " + config.requestTimeout().toMillis() + " ms"));
            }
        });
    }

    /** Sends a PING from the event loop without waiting for a window slot; its reply is simply released. */
    private void keepAlive() {
        long id = nextRequestId();
        ByteBuf frame = allocate(Frame.HEADER_BYTES + 8);
        FrameWriter.ping(frame, id, id);
        lastSendNanos = System.nanoTime();
        if (!window.tryAcquire()) {
            frame.release();
            return; // requests are under way: the connection is not idle after all
        }
        CompletableFuture<Reply> future = new CompletableFuture<>();
        pending.put(id, new Pending(future, lastSendNanos + config.requestTimeout().toNanos()));
        future.whenComplete((r, e) -> {
            if (r != null) {
                r.body().release();
            }
        });
        socket.write(Buffer.buffer(frame)).onComplete(ar -> frame.release());
    }

    private void fail(long requestId, PagePoolException e) {
        Pending p = pending.remove(requestId);
        if (p != null) {
            window.release();
            p.future().completeExceptionally(e);
        }
    }

    private void failAll(PagePoolException e) {
        for (Long id : pending.keySet()) {
            fail(id, e);
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
            if (header.status() != Status.OK) {
                String message = Bodies.errorMessage(body);
                body.release();
                p.future().completeExceptionally(PagePoolException.of(header.status(), name, message));
            } else {
                p.future().complete(new Reply(header, body));
            }
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
                ByteBuf frame = allocate(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
                FrameWriter.handbackReply(frame, header.requestId(), statuses, count);
                reply(frame);
            }
        } finally {
            body.release();
        }
    }

    /** Runs {@code action} with the reply body and releases it. */
    public static <T> T withBody(Reply reply, java.util.function.Function<ByteBuf, T> action) {
        try {
            return action.apply(reply.body());
        } finally {
            reply.body().release();
        }
    }

}
