package dev.pagepool.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * The transmission phase of one connection: parses requests as bytes arrive, checks them against the spec,
 * runs them concurrently on the device and answers each with a simple reply carrying the client's cookie,
 * in whatever order they finish.
 *
 * <p>Everything here runs on the connection's event loop; device completions are brought back to it. Reading
 * stops (the connection turns its socket's auto-read off) while {@link Nbd#MAX_INFLIGHT} requests are in flight
 * or while a request waits for buffers from the reserve, so neither memory nor device load grows with a fast
 * client.
 */
final class NbdTransmission {
    private enum State { HEADER, AWAIT_BUFFERS, PAYLOAD, DISCARD, DONE }

    /** A request between its header and its reply, with the slabs it holds. */
    private static final class Request {
        final NbdCommand command;
        final NbdSpan span;
        final byte[][] slabs;
        /** Slabs holding the span; a read-modify-write's scratch slab, if any, comes after them. */
        final int spanSlabs;
        /** When its header was read, for the observer's latency. */
        final long startNanos;
        long received;

        Request(NbdCommand command, NbdSpan span, int spanSlabs, int slabs) {
            this.startNanos = System.nanoTime();
            this.command = command;
            this.span = span;
            this.spanSlabs = spanSlabs;
            this.slabs = new byte[slabs][];
        }

        byte[] scratch() {
            return slabs[slabs.length - 1];
        }
    }

    private final NbdExport export;
    private final NbdBlockIo io;
    private final NbdBufferPool pool;
    private final NbdConnection connection;
    private final boolean strictAlignment;
    private final NbdRequestObserver observer;
    private State state = State.HEADER;
    private Request current;
    private int inflight;
    private long discard;
    private long discardCookie;
    private int discardError;

    NbdTransmission(NbdExport export, NbdBlockIo io, NbdBufferPool pool, NbdConnection connection,
                    boolean strictAlignment, NbdRequestObserver observer) {
        this.export = export;
        this.io = io;
        this.pool = pool;
        this.connection = connection;
        this.strictAlignment = strictAlignment;
        this.observer = observer;
    }

    /** True while no more requests may be read: the connection stops reading its socket. */
    boolean blocked() {
        return state == State.AWAIT_BUFFERS || (state == State.HEADER && inflight >= Nbd.MAX_INFLIGHT);
    }

    int inflight() {
        return inflight;
    }

    /** Consumes what it can of {@code in}; false when it needs more bytes or is blocked. */
    boolean step(ByteBuf in) {
        return switch (state) {
            case HEADER -> header(in);
            case PAYLOAD -> payload(in);
            case DISCARD -> discard(in);
            case AWAIT_BUFFERS, DONE -> false;
        };
    }

    private boolean header(ByteBuf in) {
        if (inflight >= Nbd.MAX_INFLIGHT || in.readableBytes() < Nbd.NBD_REQUEST_BYTES) {
            return false;
        }
        if (in.readInt() != Nbd.NBD_REQUEST_MAGIC) {
            state = State.DONE;
            connection.drop("bad request magic");
            return false;
        }
        NbdCommand command = new NbdCommand(in.readUnsignedShort(), in.readUnsignedShort(), in.readLong(),
            in.readLong(), in.readUnsignedInt());
        if (command.type() == Nbd.NBD_CMD_DISC) {
            // The spec: handle all outstanding requests, then close. Nothing more is read.
            state = State.DONE;
            connection.closeWhenIdle();
            return false;
        }
        int error = check(command);
        if (error != Nbd.NBD_OK) {
            if (command.payloadBytes() > 0) {
                // Skip the payload rather than drop the connection; reply once it is consumed, so the client
                // hears back only after it has finished sending the request.
                discard = command.payloadBytes();
                discardCookie = command.cookie();
                discardError = error;
                state = State.DISCARD;
            } else {
                connection.send(NbdReplies.simple(error, command.cookie()), null);
            }
            return true;
        }
        start(command);
        return true;
    }

    /** The spec's error for a malformed request, or NBD_OK. */
    private int check(NbdCommand c) {
        int allowedFlags;
        switch (c.type()) {
            case Nbd.NBD_CMD_READ, Nbd.NBD_CMD_WRITE, Nbd.NBD_CMD_TRIM, Nbd.NBD_CMD_FLUSH ->
                allowedFlags = Nbd.NBD_CMD_FLAG_FUA;
            case Nbd.NBD_CMD_WRITE_ZEROES -> allowedFlags = Nbd.NBD_CMD_FLAG_FUA | Nbd.NBD_CMD_FLAG_NO_HOLE;
            default -> {
                return Nbd.NBD_EINVAL; // unknown, or known but not advertised (CACHE, BLOCK_STATUS)
            }
        }
        if ((c.flags() & ~allowedFlags) != 0) {
            return Nbd.NBD_EINVAL;
        }
        if (c.type() == Nbd.NBD_CMD_FLUSH) {
            return Nbd.NBD_OK; // offset and length are reserved; tolerated rather than refused
        }
        if (c.length() == 0) {
            return Nbd.NBD_EINVAL;
        }
        boolean payload = c.type() == Nbd.NBD_CMD_READ || c.type() == Nbd.NBD_CMD_WRITE;
        if (payload && c.length() > export.maxPayloadBytes()) {
            return Nbd.NBD_EINVAL;
        }
        if (strictAlignment && ((c.offset() | c.length()) & (Nbd.MIN_BLOCK_BYTES - 1)) != 0) {
            return Nbd.NBD_EINVAL;
        }
        long size = export.sizeBytes();
        if (Long.compareUnsigned(c.offset(), size) > 0 || c.length() > size - c.offset()) {
            // The spec: ENOSPC for writes beyond the end, EINVAL for reads and trims.
            boolean writes = c.type() == Nbd.NBD_CMD_WRITE || c.type() == Nbd.NBD_CMD_WRITE_ZEROES;
            return writes ? Nbd.NBD_ENOSPC : Nbd.NBD_EINVAL;
        }
        return Nbd.NBD_OK;
    }

    private void start(NbdCommand command) {
        inflight++;
        if (command.type() == Nbd.NBD_CMD_FLUSH) {
            complete(new Request(command, null, 0, 0), io.flush());
            return;
        }
        NbdSpan span = NbdSpan.of(command.offset(), command.length());
        int spanSlabs = 0;
        int slabs = 0;
        switch (command.type()) {
            case Nbd.NBD_CMD_READ -> {
                spanSlabs = io.spanSlabs(span);
                slabs = spanSlabs;
            }
            case Nbd.NBD_CMD_WRITE -> {
                spanSlabs = io.spanSlabs(span);
                slabs = spanSlabs + (span.aligned() ? 0 : 1);
            }
            case Nbd.NBD_CMD_WRITE_ZEROES -> slabs = span.aligned() ? 0 : 1;
            default -> {
            }
        }
        Request request = new Request(command, span, spanSlabs, slabs);
        if (slabs > 0 && !pool.take(slabs, request.slabs, () -> connection.onLoop(() -> granted(request)))) {
            current = request;
            state = State.AWAIT_BUFFERS;
            return;
        }
        proceed(request);
    }

    private void granted(Request request) {
        if (connection.isClosed()) {
            pool.give(request.slabs, request.slabs.length);
            return;
        }
        current = null;
        state = State.HEADER;
        proceed(request);
        connection.resumeReading();
    }

    private void proceed(Request request) {
        if (request.command.type() == Nbd.NBD_CMD_WRITE) {
            current = request;
            state = State.PAYLOAD;
        } else {
            execute(request);
        }
    }

    private boolean payload(ByteBuf in) {
        Request r = current;
        int n = (int) Math.min(r.command.length() - r.received, in.readableBytes());
        if (n == 0) {
            return false;
        }
        int slabBytes = pool.slabBytes();
        long at = r.span.head() + r.received;
        int left = n;
        while (left > 0) {
            int slab = (int) (at / slabBytes);
            int offset = (int) (at % slabBytes);
            int piece = Math.min(left, slabBytes - offset);
            in.readBytes(r.slabs[slab], offset, piece);
            at += piece;
            left -= piece;
        }
        r.received += n;
        if (r.received == r.command.length()) {
            current = null;
            state = State.HEADER;
            execute(r);
        }
        return true;
    }

    private boolean discard(ByteBuf in) {
        int n = (int) Math.min(discard, in.readableBytes());
        if (n == 0) {
            return false;
        }
        in.skipBytes(n);
        discard -= n;
        if (discard == 0) {
            state = State.HEADER;
            connection.send(NbdReplies.simple(discardError, discardCookie), null);
        }
        return true;
    }

    private void execute(Request r) {
        NbdCommand c = r.command;
        CompletableFuture<Void> op = switch (c.type()) {
            case Nbd.NBD_CMD_READ -> io.read(r.span, r.slabs);
            case Nbd.NBD_CMD_WRITE -> io.write(r.span, r.slabs, r.span.aligned() ? null : r.scratch(), c.fua());
            case Nbd.NBD_CMD_WRITE_ZEROES ->
                io.zero(r.span, r.span.aligned() ? null : r.scratch(), c.noHole(), c.fua());
            case Nbd.NBD_CMD_TRIM -> io.trim(r.span, c.fua());
            default -> CompletableFuture.failedFuture(new IllegalStateException("unchecked type " + c.type()));
        };
        complete(r, op);
    }

    private void complete(Request r, CompletableFuture<Void> op) {
        op.whenComplete((v, e) -> connection.onLoop(() -> finish(r, e)));
    }

    /** Replies, returns the slabs (a read's once its data is written), and lets reading go on. */
    private void finish(Request r, Throwable failure) {
        inflight--;
        long cookie = r.command.cookie();
        int error = Nbd.NBD_OK;
        if (failure == null && r.command.type() == Nbd.NBD_CMD_READ) {
            connection.send(readReply(r), () -> pool.give(r.slabs, r.slabs.length));
        } else {
            if (r.slabs.length > 0) {
                pool.give(r.slabs, r.slabs.length);
            }
            error = failure == null ? Nbd.NBD_OK : NbdReplies.errorOf(failure);
            connection.send(NbdReplies.simple(error, cookie), null);
        }
        observer.requestDone(r.command.type(), r.command.length(), System.nanoTime() - r.startNanos, error, failure);
        connection.requestDone();
    }

    /** Header plus the client's bytes straight out of the slabs, without a copy. */
    private ByteBuf readReply(Request r) {
        int slabBytes = pool.slabBytes();
        long at = r.span.head();
        long left = r.command.length();
        ByteBuf[] parts = new ByteBuf[1 + r.spanSlabs];
        parts[0] = NbdReplies.simple(Nbd.NBD_OK, r.command.cookie());
        int n = 1;
        while (left > 0) {
            int slab = (int) (at / slabBytes);
            int offset = (int) (at % slabBytes);
            int piece = (int) Math.min(left, slabBytes - offset);
            parts[n++] = Unpooled.wrappedBuffer(r.slabs[slab], offset, piece);
            at += piece;
            left -= piece;
        }
        return Unpooled.wrappedBuffer(n, n == parts.length ? parts : Arrays.copyOf(parts, n));
    }

    /** The connection is gone: a request still waiting for its payload will never get it. */
    void closed() {
        if (current != null && state == State.PAYLOAD) {
            pool.give(current.slabs, current.slabs.length);
            current = null;
            inflight--;
        }
        state = State.DONE;
    }
}
