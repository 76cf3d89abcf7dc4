package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One application thread's own connection to one donor, for its synchronous single-page calls: the thread writes
 * its frame and reads the reply itself, in blocking system calls. A call then wakes two threads (the donor's loop,
 * then the caller), where a hand-off to the client's event loop wakes four.
 *
 * <p>Only the owner thread writes and reads, and only while it is inside a call ({@link CallerLanes}); the donor
 * is told in HELLO ({@link Frame#HELLO_CALLS_ONLY}) to send no requests of its own here, since nobody reads the
 * socket between calls. Other threads only close it: the client's sweeper when a reply is overdue (the owner's
 * blocked read then fails, as a timed-out request fails on an event-loop connection) or the lane has been idle
 * past the keep-alive, and {@code takeOutOfService} when the donor leaves service, so that a request under way here
 * fails and is placed again, exactly as on the donor's other connections.
 */
final class CallerLane implements DonorWire {
    private record Pending(long requestId, CompletableFuture<DonorReply> future, long deadlineNanos) {
    }

    private static final int IDLE = 0;
    private static final int IN_CALL = 1;
    private static final int CLOSED = 2;
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    /** Idle longer than this, a lane checks the donor's end is still open before a call. */
    private static final long STALE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    final DonorLink link;
    private final SocketChannel channel;
    private final NanoClock clock;
    private final long requestTimeoutNanos;
    private final FrameDecoder decoder;
    private final ByteBuf in = PooledByteBufAllocator.DEFAULT.directBuffer(READ_BUFFER_BYTES, READ_BUFFER_BYTES);
    /** Requests written and not answered, oldest first: a donor answers a connection's frames in order. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final AtomicInteger state = new AtomicInteger(IN_CALL);
    private final AtomicBoolean disposed = new AtomicBoolean();
    private final Thread owner = Thread.currentThread();
    /** The oldest unanswered request, or null: the head of {@link #pending}, published for the sweeper. */
    private volatile Pending oldest;
    private volatile boolean overdue;
    private volatile long lastUsedNanos;
    private long nextRequestId = 1;

    private CallerLane(DonorLink link, SocketChannel channel, NanoClock clock, ClientConfig config) {
        this.link = link;
        this.channel = channel;
        this.clock = clock;
        this.requestTimeoutNanos = config.requestTimeout().toNanos();
        this.lastUsedNanos = clock.nanoTime();
        this.decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, bytes -> PooledByteBufAllocator.DEFAULT.directBuffer(bytes),
            new ReplyListener());
    }

    /**
     * Connects (blocking, bounded by the connect timeout) and starts the handshake; the lane is in a call until
     * the caller {@link #release}s it. The handshake's replies are read by the caller's pump.
     */
    static CallerLane connect(DonorLink link, ClientConfig config, NanoClock clock) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            channel.socket().setTcpNoDelay(true);
            channel.socket().connect(new InetSocketAddress(link.address.getHostString(), link.address.getPort()),
                (int) config.connectTimeout().toMillis());
            return new CallerLane(link, channel, clock, config);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public long nextRequestId() {
        return nextRequestId++;
    }

    @Override
    public String name() {
        return link.name();
    }

    /**
     * Writes the frame at once, on the owner's thread. The request's deadline runs from before the write, so a write
     * that a frozen donor never drains is failed by the sweeper like an unanswered request; a failed write fails
     * the request as a closed connection.
     */
    @Override
    public CompletableFuture<DonorReply> send(long requestId, ByteBuf frame) {
        CompletableFuture<DonorReply> future = new CompletableFuture<>();
        if (Thread.currentThread() != owner) {
            frame.release(); // never written: a refusal of this request, not a failure of the donor
            future.completeExceptionally(new IllegalStateException("a caller's lane used from another thread"));
            return future;
        }
        Pending p = new Pending(requestId, future, clock.nanoTime() + requestTimeoutNanos);
        pending.add(p);
        oldest = pending.peek();
        try {
            if (state.get() == CLOSED) {
                throw new IOException("closed");
            }
            ByteBuffer out = frame.nioBuffer();
            while (out.hasRemaining()) {
                channel.write(out);
            }
        } catch (IOException e) {
            close();
            failAll(overdue ? overdueError() : closedError());
        } finally {
            frame.release();
        }
        return future;
    }

    /** A BUSY pause on a lane is the owner's: only it writes here, and it waits for its call anyway. */
    @Override
    public CompletableFuture<Void> after(long micros) {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(micros));
        return CompletableFuture.completedFuture(null);
    }

    /** Reads until {@code future} is done or nothing is left unanswered here. */
    void readUntil(CompletableFuture<?> future) {
        while (!future.isDone() && !pending.isEmpty()) {
            read();
        }
    }

    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** Reads what the donor sent and completes the requests it answers (their callbacks run here). */
    void read() {
        try {
            // The decoder takes every byte it is fed (a frame cut short waits in its own buffers), so each read
            // starts from an empty buffer.
            in.clear();
            int n = channel.read(in.internalNioBuffer(0, in.capacity()));
            if (n < 0) {
                throw new IOException("end of stream");
            }
            in.writerIndex(n);
            decoder.feed(in);
        } catch (IOException e) {
            close();
            failAll(overdue ? overdueError() : closedError());
        }
    }

    private DonorUnavailableException overdueError() {
        return new DonorUnavailableException("donor " + name() + " did not answer within "
            + requestTimeoutNanos / 1_000_000 + " ms");
    }

    private DonorUnavailableException closedError() {
        return new DonorUnavailableException("caller's connection to donor " + name() + " closed");
    }

    /**
     * Takes the lane for a call; false if it was closed meanwhile. After an idle spell it first checks that the
     * donor has not closed its end (its idle timeout may be shorter than this client's keep-alive): a request
     * written into a connection the donor already closed would fail as if the donor were gone.
     */
    boolean acquire() {
        if (!state.compareAndSet(IDLE, IN_CALL)) {
            return false;
        }
        if (clock.nanoTime() - lastUsedNanos > STALE_CHECK_NANOS && !peerStillThere()) {
            close();
            return false;
        }
        return true;
    }

    /** A read that does not wait: nothing to read means the donor's end is open; an end of stream, that it closed. */
    private boolean peerStillThere() {
        try {
            channel.configureBlocking(false);
            try {
                return channel.read(in.internalNioBuffer(0, in.capacity())) == 0;
            } finally {
                channel.configureBlocking(true);
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** The call is over; requests left unanswered (none, unless it failed) close the lane. */
    void release() {
        lastUsedNanos = clock.nanoTime();
        if (!pending.isEmpty()) {
            close();
            failAll(closedError());
            return;
        }
        state.compareAndSet(IN_CALL, IDLE);
    }

    boolean isOpen() {
        return state.get() != CLOSED;
    }

    /**
     * The sweeper's check, from any thread: an overdue reply closes the lane (the owner's read then fails with the
     * timeout); a lane idle past {@code idleNanos} is closed and let go, and true is returned.
     */
    boolean sweep(long now, long idleNanos) {
        int s = state.get();
        Pending head = oldest;
        if (s == IN_CALL && head != null && now - head.deadlineNanos() > 0) {
            overdue = true;
            close();
        } else if (s == IDLE && now - lastUsedNanos > idleNanos && state.compareAndSet(IDLE, CLOSED)) {
            dispose(); // the owner finds it closed at its next call and lets it go too
            return true;
        }
        return false;
    }

    /** From any thread: a blocked read or write of the owner fails at once. */
    void close() {
        if (state.getAndSet(CLOSED) != CLOSED) {
            closeChannel();
        }
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing: nothing left to do with it
        }
    }

    /** Owner only, once the lane is closed: what is left unanswered fails. */
    private void failAll(PagePoolException e) {
        oldest = null;
        for (Pending p; (p = pending.poll()) != null; ) {
            p.future().completeExceptionally(e);
        }
    }

    /**
     * Lets go of the lane: by the owner outside a read, or by the sweeper once the lane is idle and closed (the
     * owner then only finds it closed). Its buffers go back once.
     */
    void dispose() {
        close();
        if (!disposed.compareAndSet(false, true)) {
            return;
        }
        failAll(closedError());
        decoder.close();
        if (in.refCnt() > 0) {
            in.release();
        }
    }

    private final class ReplyListener implements FrameDecoder.Listener {
        @Override
        public void onFrame(FrameHeader header, ByteBuf body) {
            if (state.get() == CLOSED) {
                body.release(); // what followed a broken frame, or an overdue reply: its request already failed
                return;
            }
            Pending p = pending.peek();
            if (!header.isResponse() || p == null || p.requestId() != header.requestId()) {
                body.release();
                close();
                failAll(new ProtocolViolationException("donor " + name() + " sent " + (header.isResponse()
                    ? "a reply to request " + header.requestId() + " out of turn" : "a request")
                    + " on a connection that carries the client's calls only"));
                return;
            }
            pending.poll();
            oldest = pending.peek();
            DonorConnection.settle(p.future(), header, body, name());
        }

        @Override
        public void onRejected(FrameHeader header, ProtocolException error) {
            close();
            failAll(new ProtocolViolationException("reply from " + name() + " unreadable: " + error.getMessage()));
        }

        @Override
        public void onFramingLost(ProtocolException error) {
            close();
            failAll(new ProtocolViolationException("donor " + name() + " broke the protocol: " + error.getMessage()));
        }
    }
}
