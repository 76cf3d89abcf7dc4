package dev.pagepool.node.net;

import dev.pagepool.node.config.ConnectionLimits;
import dev.pagepool.node.handback.HandbackLink;
import dev.pagepool.node.handback.HandbackOutput;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.metrics.RequestTimers;
import dev.pagepool.node.pool.ClientLeases;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.impl.NetSocketInternal;
import org.jboss.logging.Logger;

/**
 * One client connection to the data port: a state machine (handshake, then serving) driven by its
 * {@link FrameDecoder}, confined to one event loop.
 *
 * <p>A stranger costs the donor almost nothing: until the HELLO/AUTH handshake ({@link DonorHandshake}) is done,
 * frames go into a small buffer of the connection's own, never into the reserve, and no frame may be larger than
 * a HELLO; the handshake must be done within the hello timeout. Idle time counts whole frames, in or out, not
 * bytes, so a peer that trickles a byte now and then is idle all the same.
 *
 * <p>Back-pressure instead of queues: every reply is written as soon as the request is served, and once
 * {@code maxInflight} replies, or {@code maxReserveBytes} of reserve buffers, are waiting for the socket, the
 * connection stops reading (frames already received wait undecoded) until the client has taken them. A client
 * that sends faster than it reads stalls itself, not the donor, and holds a bounded share of the reserve.
 *
 * <p>Frames flow both ways: the donor sends HANDBACK requests of its own (see {@link HandbackLink}) once the
 * client has authenticated, so replies arriving here (FLAG_RESPONSE set) are routed to the link, and never
 * answered; a reply that matches nothing is ignored.
 *
 * <p>Bad input costs the client its request, not the donor its process: a malformed body, an unknown
 * opcode or an oversized length is answered with a typed error and the connection goes on; only a stream
 * that lost its framing (wrong magic or version) or a failed HELLO is closed, after the error reply.
 */
final class DataConnection implements FrameDecoder.Listener {
    private static final Logger LOG = Logger.getLogger(DataConnection.class);

    private final NetSocketInternal socket;
    private final FrameDecoder decoder;
    private final RequestProcessor processor;
    private final BufferReserve reserve;
    private final NodeCounters counters;
    private final RequestTimers timers;
    private final ClientLeases leases;
    private final ConnectionLimits limits;
    private final HandbackSender handback;
    private final StrangerGate strangers;
    private final Runnable onClosed;
    private final ConnectionState state = new ConnectionState();
    private final DonorHandshake handshake;
    /** The only buffer a stranger's frames ever go into: a HELLO or an AUTH body. */
    private final ByteBuf handshakeBody = Unpooled.buffer(Frame.MAX_PREAUTH_BODY_BYTES, Frame.MAX_PREAUTH_BODY_BYTES);
    private final long acceptedNanos = System.nanoTime();
    private final Context context = Vertx.currentContext();
    private long lastFrameNanos = acceptedNanos;
    private boolean stranger = true;
    private HandbackLink link;
    /** The client's HELLO asked for a connection that carries its calls only. */
    private boolean callsOnly;
    private int inflight;
    private long heldReplyBytes;
    private boolean paused;
    private boolean closing;
    /** Received chunks not decoded yet, because the connection was over its limits; usually empty. */
    private final ArrayDeque<ByteBuf> unread = new ArrayDeque<>(2);

    DataConnection(NetSocketInternal socket, RequestProcessor processor, BufferReserve reserve, NodeCounters counters,
                   RequestTimers timers, DonorHandshake handshake, ClientLeases leases, ConnectionLimits limits,
                   HandbackSender handback, StrangerGate strangers, Runnable onClosed) {
        this.handback = handback;
        this.socket = socket;
        this.processor = processor;
        this.reserve = reserve;
        this.counters = counters;
        this.timers = timers;
        this.handshake = handshake;
        this.leases = leases;
        this.limits = limits;
        this.strangers = strangers;
        this.onClosed = onClosed;
        this.decoder = new FrameDecoder(Frame.MAX_PREAUTH_BODY_BYTES, new FrameDecoder.BodyBuffers() {
            @Override
            public ByteBuf acquire(int bytes) {
                return state.authenticated() ? reserve.acquire(bytes) : handshakeBody.clear();
            }

            @Override
            public void giveBack(ByteBuf body) {
                releaseBody(body);
            }
        }, this);
    }

    void start() {
        // Raw Netty buffers, not Vert.x's copies: the decoder copies each frame once, into a reserve buffer.
        socket.messageHandler(msg -> {
            if (msg instanceof ByteBuf chunk) {
                if (closing) {
                    chunk.release();
                } else {
                    unread.add(chunk);
                    decodeUnread();
                }
            }
        });
        socket.closeHandler(v -> {
            decoder.close();
            for (ByteBuf chunk : unread) {
                chunk.release();
            }
            unread.clear();
            if (link != null) {
                link.close();
            }
            counters.connectionsOpen.decrement();
            if (callsOnly) {
                counters.connectionsCallsOnly.decrement();
            }
            leaveStrangers();
            if (state.authenticated()) {
                leases.disconnected(state.clientId(), System.currentTimeMillis());
            }
            onClosed.run();
        });
        socket.exceptionHandler(e -> LOG.debugf("data connection %s: %s", socket.remoteAddress(), e.toString()));
    }

    /**
     * Closes the connection if its handshake is overdue or no whole frame went either way for the idle timeout.
     * Called periodically on the connection's event loop.
     */
    void checkDeadlines(long nowNanos) {
        if (closing) {
            return;
        }
        if (!state.authenticated() && nowNanos - acceptedNanos > limits.helloTimeoutMillis() * 1_000_000L) {
            counters.handshakeTimeouts.increment();
            LOG.debugf("closing %s: no completed handshake within %d ms", socket.remoteAddress(), limits.helloTimeoutMillis());
            close();
        } else if (nowNanos - lastFrameNanos > limits.idleTimeoutMillis() * 1_000_000L) {
            LOG.debugf("closing %s: no whole frame for %d ms", socket.remoteAddress(), limits.idleTimeoutMillis());
            close();
        }
    }

    /**
     * Feeds the chunks received so far to the decoder, until they are used up or the connection is over its
     * limits: frames that arrived in the same read as the one that reached a limit wait here, unserved.
     */
    private void decodeUnread() {
        while (!unread.isEmpty() && !decoder.paused() && !decoder.isDead() && !closing) {
            ByteBuf chunk = unread.peek();
            decoder.feed(chunk);
            if (!chunk.isReadable()) {
                unread.poll().release();
            }
        }
    }

    private void close() {
        closing = true;
        // A stranger the donor drops gives its place back now, not when the close completes later on the loop:
        // the peer sees the connection end first, and may connect again at once.
        leaveStrangers();
        socket.close();
    }

    @Override
    public void onFrame(FrameHeader header, ByteBuf body) {
        long started = System.nanoTime();
        lastFrameNanos = started;
        try {
            if (header.isResponse()) {
                onResponse(header, body);
                return;
            }
            if (!state.authenticated()) {
                handshakeStep(header, body);
            } else {
                send(processor.process(state, header, body));
            }
        } catch (ProtocolException e) {
            fail(header, e);
        } catch (RuntimeException e) {
            LOG.errorf(e, "internal error serving %s from %s", Opcode.name(header.opcode()), socket.remoteAddress());
            fail(header, new ProtocolException(Status.INTERNAL, false, "internal error: " + e));
        } finally {
            releaseBody(body);
            timers.record(header.opcode(), System.nanoTime() - started);
        }
    }

    private void releaseBody(ByteBuf body) {
        if (body != handshakeBody) {
            reserve.release(body);
        }
    }

    /** A reply to one of the donor's own requests. Never answered, never fatal. */
    private void onResponse(FrameHeader header, ByteBuf body) throws ProtocolException {
        if (!state.authenticated()) {
            counters.authFailures.increment();
            throw new ProtocolException(Status.UNAUTHENTICATED, true, "complete the HELLO/AUTH handshake first");
        }
        if (header.opcode() == Opcode.HANDBACK && link != null) {
            link.onReply(header, body);
        } else {
            LOG.debugf("reply %s %d from %s answers no request of this donor: ignored", Opcode.name(header.opcode()),
                header.requestId(), socket.remoteAddress());
        }
    }

    private void handshakeStep(FrameHeader header, ByteBuf body) throws ProtocolException {
        ByteBuf reply;
        try {
            reply = handshake.onFrame(header, body);
        } catch (ProtocolException e) {
            if (e.status() == Status.UNAUTHENTICATED) {
                counters.authFailures.increment();
            }
            throw e;
        }
        if (!handshake.done()) {
            send(reply);
            return;
        }
        state.authenticate(handshake.clientId(), handshake.ownerKey());
        leaveStrangers();
        leases.connected(state.clientId());
        decoder.maxBodyBytes(Frame.MAX_BODY_BYTES);
        send(reply);
        // After the AUTH reply, so a client never sees a HANDBACK before both sides are proven; and never on a
        // connection that carries only the client's calls, whose reader reads only while a call is under way.
        if (handshake.callsOnly()) {
            callsOnly = true;
            counters.connectionsCallsOnly.increment();
        } else {
            link = handback.open(state.clientId(), state.ownerKey(), state.grants(), Vertx.currentContext(),
                handbackOutput());
        }
    }

    private void leaveStrangers() {
        if (stranger) {
            stranger = false;
            strangers.leave();
        }
    }

    @Override
    public void onRejected(FrameHeader header, ProtocolException error) {
        lastFrameNanos = System.nanoTime();
        if (header.isResponse() && state.authenticated()) {
            // A reply the decoder could not take in: never answer a reply; its hand-back pages simply stay.
            LOG.debugf("reply %s %d from %s skipped: %s", Opcode.name(header.opcode()), header.requestId(),
                socket.remoteAddress(), error.getMessage());
            if (header.opcode() == Opcode.HANDBACK && link != null) {
                link.onReplyLost(header.requestId());
            }
            return;
        }
        if (!state.authenticated()) {
            counters.authFailures.increment();
            fail(header, new ProtocolException(Status.UNAUTHENTICATED, true,
                "complete the HELLO/AUTH handshake first (" + error.getMessage() + ")"));
            return;
        }
        if (error.status() == Status.BUSY) {
            counters.busyReplies.increment();
        }
        fail(header, error);
    }

    @Override
    public void onFramingLost(ProtocolException error) {
        int peerVersion = decoder.peerVersion();
        if (error.status() == Status.UNSUPPORTED_VERSION) {
            LOG.infof("refusing %s: %s", socket.remoteAddress(), error.getMessage());
        }
        // A peer of an older version is answered in its own header version, so that it can read why.
        int replyVersion = error.status() == Status.UNSUPPORTED_VERSION && peerVersion >= 1 && peerVersion < Frame.VERSION
            ? peerVersion : Frame.VERSION;
        fail(new FrameHeader(0, 0, 0, 0, 0), new ProtocolException(error.status(), true, error.getMessage()), replyVersion);
    }

    private void fail(FrameHeader header, ProtocolException e) {
        fail(header, e, Frame.VERSION);
    }

    /** Error replies are small heap buffers: they must not depend on the reserve, which may be what ran out. */
    private void fail(FrameHeader header, ProtocolException e, int version) {
        if (e.status() != Status.BUSY) {
            counters.protocolErrors.increment();
        }
        LOG.debugf("%s from %s: %s %s", Opcode.name(header.opcode()), socket.remoteAddress(),
            Status.requestName(e.status()), e.getMessage());
        ByteBuf reply = Unpooled.buffer(Frame.HEADER_BYTES + 2 + Frame.MAX_ERROR_MESSAGE_BYTES);
        FrameWriter.errorInVersion(reply, version, header.opcode(), header.requestId(), e.status(), e.getMessage());
        if (e.framingLost()) {
            closing = true;
            leaveStrangers();
            socket.write(Buffer.buffer(reply)).onComplete(ar -> socket.close());
        } else {
            send(reply);
        }
    }

    /** This connection's socket as the hand-back link sees it: frames written like replies, and its back-pressure. */
    private HandbackOutput handbackOutput() {
        return new HandbackOutput() {
            @Override
            public Future<Void> write(ByteBuf frame) {
                return send(frame);
            }

            @Override
            public boolean writeQueueFull() {
                return socket.writeQueueFull();
            }

            @Override
            public void whenDrained(Runnable then) {
                socket.drainHandler(v -> {
                    socket.drainHandler(null);
                    then.run();
                });
            }
        };
    }

    /** Writes a frame; the future completes once it has left the process (a reserve buffer is back by then). */
    private Future<Void> send(ByteBuf reply) {
        // Reserve buffers are direct; error and handshake replies are heap and go to the garbage collector.
        boolean fromReserve = reply.isDirect();
        int held = fromReserve ? reply.capacity() : 0;
        inflight++;
        heldReplyBytes += held;
        Future<Void> written = socket.write(Buffer.buffer(reply)).onComplete(ar -> {
            if (fromReserve) {
                reserve.release(reply);
            }
            inflight--;
            heldReplyBytes -= held;
            lastFrameNanos = System.nanoTime(); // a whole reply left: the client is reading
            maybeResume();
        });
        if (!paused && overLimits()) {
            paused = true;
            decoder.pause();
            readFromSocket(false);
        }
        return written;
    }

    /** Reads again once the connection is back within its limits; called when a write completes. */
    private void maybeResume() {
        if (paused && !overLimits()) {
            paused = false;
            decoder.resume();
            // Later on the loop, not inside this callback: the decoder may be in the middle of a feed now.
            context.runOnContext(x -> {
                decodeUnread();
                if (!paused) {
                    readFromSocket(true);
                }
            });
        }
    }

    /**
     * Netty's auto-read, not {@code socket.pause()}: a socket read through {@code messageHandler} bypasses the
     * Vert.x inbound queue that pause and resume act on, so only the channel itself stops the reads.
     */
    private void readFromSocket(boolean read) {
        socket.channelHandlerContext().channel().config().setAutoRead(read);
    }

    /**
     * Every buffer this connection has written and the client not yet taken is a reserve buffer counted here (or a
     * small heap error reply counted in flight), so these two bounds are the whole of what the connection holds;
     * Netty's own write queue needs no separate watermark.
     */
    private boolean overLimits() {
        return inflight >= limits.maxInflight() || heldReplyBytes >= limits.maxReserveBytes();
    }
}
