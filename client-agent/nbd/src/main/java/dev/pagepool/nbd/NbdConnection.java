package dev.pagepool.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.impl.NetSocketInternal;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client's TCP connection: accumulates the bytes as they come (in any fragmentation), hands them to the
 * handshake and then to the transmission phase, writes what they answer, and stops reading the socket whenever
 * the phase cannot take more, so a client can never make the server buffer without bound.
 *
 * <p>All state is confined to the connection's event loop; work finishing elsewhere comes back through
 * {@link #onLoop}. Closing is either at once ({@link #drop}, for protocol violations) or once every request in
 * flight is answered and written ({@link #closeWhenIdle}, for NBD_CMD_DISC and NBD_OPT_ABORT).
 */
final class NbdConnection {
    /** Replies of one tick that still leave in one flush; past it, a flush goes out to keep the socket busy. */
    private static final int FLUSH_AFTER_WRITES = 64;
    private static final Logger LOG = Logger.getLogger(NbdConnection.class.getName());
    /** Components kept before Netty consolidates the accumulator; fragments are usually consumed long before. */
    private static final int MAX_COMPONENTS = 64;

    private final NetSocketInternal socket;
    private final ContextInternal context;
    private final NbdExport export;
    private final NbdBlockIo io;
    private final NbdBufferPool pool;
    private final NbdRequestObserver observer;
    private final Consumer<NbdConnection> onClose;
    private final CompositeByteBuf in = Unpooled.compositeBuffer(MAX_COMPONENTS);
    private NbdHandshake handshake;
    private NbdTransmission transmission;
    private int writesPending;
    private boolean paused;
    private boolean draining;
    private boolean closing;
    private boolean closed;

    NbdConnection(NetSocketInternal socket, NbdExport export, NbdBlockIo io, NbdBufferPool pool,
                  NbdRequestObserver observer, Consumer<NbdConnection> onClose) {
        this.socket = socket;
        this.context = (ContextInternal) Vertx.currentContext();
        this.export = export;
        this.io = io;
        this.pool = pool;
        this.observer = observer;
        this.onClose = onClose;
        this.handshake = new NbdHandshake(export, buf -> send(buf, null));
    }

    void start() {
        // Replies finished in one tick of the loop (a donor's reply frame completes many requests) leave in one
        // flush, not one system call each.
        socket.channelHandlerContext().pipeline().addBefore("handler", "flush-consolidation",
            new FlushConsolidationHandler(FLUSH_AFTER_WRITES, true));
        socket.messageHandler(msg -> {
            if (msg instanceof ByteBuf chunk) {
                if (closed || closing) {
                    chunk.release();
                    return;
                }
                in.addComponent(true, chunk);
                drain();
            }
        });
        socket.closeHandler(v -> closed());
        socket.exceptionHandler(e -> LOG.log(Level.FINE, "nbd connection " + socket.remoteAddress(), e));
        socket.drainHandler(v -> updateFlow());
        send(NbdReplies.greeting(), null);
    }

    /** Runs {@code task} on this connection's event loop: now if already there, else queued to it. */
    void onLoop(Runnable task) {
        // The thread, not the context: the client's donor connections may share this loop under contexts of
        // their own, and a completion that arrives there needs no hop.
        if (context.nettyEventLoop().inEventLoop()) {
            task.run();
        } else {
            context.runOnContext(v -> task.run());
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Bytes read off the socket and not parsed yet: what reading ahead costs beyond the reserve. */
    CompletableFuture<Integer> unparsedBytes() {
        CompletableFuture<Integer> bytes = new CompletableFuture<>();
        onLoop(() -> bytes.complete(closed ? 0 : in.readableBytes()));
        return bytes;
    }

    /** Writes {@code buf} (and releases it); {@code written} runs once it is written or the write failed. */
    void send(ByteBuf buf, Runnable written) {
        if (closed) {
            buf.release();
            if (written != null) {
                written.run();
            }
            return;
        }
        writesPending++;
        socket.write(Buffer.buffer(buf)).onComplete(ar -> {
            buf.release();
            writesPending--;
            if (written != null) {
                written.run();
            }
            closeIfIdle();
        });
    }

    /** A request was answered: reading may go on if it was held back by the in-flight bound. */
    void requestDone() {
        resumeReading();
        closeIfIdle();
    }

    /** Something the transmission phase waited for arrived: parse what is buffered, then let the socket go. */
    void resumeReading() {
        if (!draining) {
            drain();
        }
    }

    /** Hard disconnect: the client broke a MUST of the protocol. */
    void drop(String why) {
        LOG.fine(() -> "dropping nbd connection " + socket.remoteAddress() + ": " + why);
        closing = true;
        socket.close();
    }

    /** Soft disconnect: answer what is in flight, write it out, then close. */
    void closeWhenIdle() {
        closing = true;
        closeIfIdle();
    }

    private void closeIfIdle() {
        if (closing && !closed && writesPending == 0 && (transmission == null || transmission.inflight() == 0)) {
            socket.close();
        }
    }

    private void drain() {
        draining = true;
        try {
            while (!closed && !closing && next()) {
                // each step consumed a message or changed state
            }
        } finally {
            draining = false;
        }
        if (!closed) {
            in.discardReadComponents();
        }
        updateFlow();
    }

    private boolean next() {
        if (transmission != null) {
            return transmission.step(in);
        }
        switch (handshake.step(in)) {
            case MORE:
                return false;
            case AGAIN:
                return true;
            case TRANSMISSION:
                transmission = new NbdTransmission(export, io, pool, this, handshake.blockSizeAgreed(), observer);
                handshake = null;
                return true;
            case CLOSE:
                closeWhenIdle();
                return false;
            case DROP:
            default:
                drop("handshake violation");
                return false;
        }
    }

    private void updateFlow() {
        if (closed) {
            return;
        }
        boolean hold = (transmission != null && transmission.blocked()) || socket.writeQueueFull();
        if (hold != paused) {
            paused = hold;
            readFromSocket(!hold);
        }
    }

    /**
     * Netty's auto-read, not {@code socket.pause()}: a socket read through {@code messageHandler} bypasses the
     * Vert.x inbound queue that pause and resume act on, so only the channel itself stops the reads. The chunks of
     * the read under way still arrive; they wait in {@link #in}, a bounded read-ahead.
     */
    private void readFromSocket(boolean read) {
        socket.channelHandlerContext().channel().config().setAutoRead(read);
    }

    private void closed() {
        if (closed) {
            return;
        }
        closed = true;
        in.release();
        if (transmission != null) {
            transmission.closed();
        }
        onClose.accept(this);
    }

    void close() {
        onLoop(socket::close);
    }
}
