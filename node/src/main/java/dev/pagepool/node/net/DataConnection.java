package dev.pagepool.node.net;

import dev.pagepool.node.handback.HandbackLink;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.metrics.RequestTimers;
import dev.pagepool.node.pool.ClientLeases;
import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.impl.NetSocketInternal;
import java.security.MessageDigest;
import org.jboss.logging.Logger;

/**
 * One client connection to the data port: a state machine of two states (waiting for HELLO, serving) driven
 * by its {@link FrameDecoder}, confined to one event loop.
 *
 * <p>Back-pressure instead of queues: every reply is written as soon as the request is served, and once
 * {@code maxInflight} replies are waiting for the socket (or Netty's write queue is full) the connection
 * stops reading until the client has taken them. A client that sends faster than it reads stalls itself,
 * not the donor.
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
    private final byte[] token;
    private final ClientLeases leases;
    private final int maxInflight;
    private final HandbackSender handback;
    private final ConnectionState state = new ConnectionState();
    private HandbackLink link;
    private int inflight;
    private boolean paused;
    private boolean closing;

    DataConnection(NetSocketInternal socket, RequestProcessor processor, BufferReserve reserve, NodeCounters counters,
                   RequestTimers timers, byte[] token, ClientLeases leases, int maxInflight, HandbackSender handback) {
        this.handback = handback;
        this.socket = socket;
        this.processor = processor;
        this.reserve = reserve;
        this.counters = counters;
        this.timers = timers;
        this.token = token;
        this.leases = leases;
        this.maxInflight = maxInflight;
        // Until HELLO succeeds the peer is a stranger: it may send a HELLO and nothing larger, so it can never
        // hold a frame-sized reserve buffer hostage by announcing a large body and sending it slowly.
        this.decoder = new FrameDecoder(Frame.HELLO_FIXED_BYTES + Frame.MAX_TOKEN_BYTES, reserve::acquire, this);
    }

    void start() {
        // Raw Netty buffers, not Vert.x's copies: the decoder copies each frame once, into a reserve buffer.
        socket.messageHandler(msg -> {
            if (msg instanceof ByteBuf chunk) {
                try {
                    if (!closing) {
                        decoder.feed(chunk);
                    }
                } finally {
                    chunk.release();
                }
            }
        });
        socket.closeHandler(v -> {
            decoder.close();
            if (link != null) {
                link.close();
            }
            counters.connectionsOpen.decrement();
            if (state.authenticated()) {
                leases.disconnected(state.clientId(), System.currentTimeMillis());
            }
        });
        socket.exceptionHandler(e -> LOG.debugf("data connection %s: %s", socket.remoteAddress(), e.toString()));
    }

    @Override
    public void onFrame(FrameHeader header, ByteBuf body) {
        long started = System.nanoTime();
        try {
            if (header.isResponse()) {
                onResponse(header, body);
                return;
            }
            if (!state.authenticated()) {
                hello(header, body);
            } else {
                send(processor.process(state, header, body));
            }
        } catch (ProtocolException e) {
            fail(header, e);
        } catch (RuntimeException e) {
            LOG.errorf(e, "internal error serving %s from %s", Opcode.name(header.opcode()), socket.remoteAddress());
            fail(header, new ProtocolException(Status.INTERNAL, false, "internal error: " + e));
        } finally {
            reserve.release(body);
            timers.record(header.opcode(), System.nanoTime() - started);
        }
    }

    /** A reply to one of the donor's own requests. Never answered, never fatal. */
    private void onResponse(FrameHeader header, ByteBuf body) throws ProtocolException {
        if (!state.authenticated()) {
            counters.authFailures.increment();
            throw new ProtocolException(Status.UNAUTHENTICATED, true, "send HELLO with the cluster token first");
        }
        if (header.opcode() == Opcode.HANDBACK && link != null) {
            link.onReply(header, body);
        } else {
            LOG.debugf("reply %s %d from %s answers no request of this donor: ignored", Opcode.name(header.opcode()),
                header.requestId(), socket.remoteAddress());
        }
    }

    private void hello(FrameHeader header, ByteBuf body) throws ProtocolException {
        if (header.opcode() != Opcode.HELLO) {
            counters.authFailures.increment();
            throw new ProtocolException(Status.UNAUTHENTICATED, true, "send HELLO with the cluster token first");
        }
        Bodies.checkRequest(header, body);
        if (Bodies.helloVersion(body) != Frame.VERSION) {
            throw new ProtocolException(Status.UNSUPPORTED_VERSION, true,
                "client speaks version " + Bodies.helloVersion(body) + ", this donor " + Frame.VERSION);
        }
        if (token.length > 0) {
            byte[] presented = new byte[Bodies.helloTokenLength(body)];
            body.getBytes(Bodies.helloTokenIndex(body), presented);
            if (!MessageDigest.isEqual(presented, token)) {
                counters.authFailures.increment();
                throw new ProtocolException(Status.UNAUTHENTICATED, true, "wrong token");
            }
        }
        state.authenticate(Bodies.helloClientId(body));
        leases.connected(state.clientId());
        decoder.maxBodyBytes(Frame.MAX_BODY_BYTES);
        send(processor.helloReply(header, Frame.MAX_BODY_BYTES));
        // After the HELLO reply, so a client never sees a HANDBACK before it knows the donor's limits.
        link = handback.open(state.clientId(), state.grants(), Vertx.currentContext(), this::send);
    }

    @Override
    public void onRejected(FrameHeader header, ProtocolException error) {
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
                "send HELLO with the cluster token first (" + error.getMessage() + ")"));
            return;
        }
        if (error.status() == Status.BUSY) {
            counters.busyReplies.increment();
        }
        fail(header, error);
    }

    @Override
    public void onFramingLost(ProtocolException error) {
        fail(new FrameHeader(0, 0, 0, 0, 0), new ProtocolException(error.status(), true, error.getMessage()));
    }

    /** Error replies are small heap buffers: they must not depend on the reserve, which may be what ran out. */
    private void fail(FrameHeader header, ProtocolException e) {
        if (e.status() != Status.BUSY) {
            counters.protocolErrors.increment();
        }
        LOG.debugf("%s from %s: %s %s", Opcode.name(header.opcode()), socket.remoteAddress(),
            Status.requestName(e.status()), e.getMessage());
        ByteBuf reply = Unpooled.buffer(Frame.HEADER_BYTES + 2 + Frame.MAX_ERROR_MESSAGE_BYTES);
        FrameWriter.error(reply, header.opcode(), header.requestId(), e.status(), e.getMessage());
        if (e.framingLost()) {
            closing = true;
            socket.write(Buffer.buffer(reply)).onComplete(ar -> socket.close());
        } else {
            send(reply);
        }
    }

    private void send(ByteBuf reply) {
        inflight++;
        socket.write(Buffer.buffer(reply)).onComplete(ar -> {
            // Reserve buffers are direct; error replies are heap and go to the garbage collector.
            if (reply.isDirect()) {
                reserve.release(reply);
            }
            inflight--;
            if (paused && inflight < maxInflight && !socket.writeQueueFull()) {
                paused = false;
                socket.resume();
            }
        });
        if (!paused && (inflight >= maxInflight || socket.writeQueueFull())) {
            paused = true;
            socket.pause();
        }
    }
}
