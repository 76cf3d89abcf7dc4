package dev.pagepool.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Cuts a byte stream into frames. One decoder per connection; {@link #feed} takes the chunks as the socket
 * delivers them.
 *
 * <p>The header is checked before the body is buffered: a length above the limit, or an unknown opcode,
 * makes the decoder skip the body without storing it and report the frame as rejected, so the connection
 * (and every other request on it) survives. Only a wrong magic or version loses the frame boundaries; then the
 * decoder stops and the owner closes the connection after replying.
 *
 * <p>Body buffers come from the owner ({@link BodyBuffers}), typically a pre-allocated reserve; when it has
 * none the frame is skipped and reported {@link Status#BUSY}. The listener owns each body it is handed and
 * must release it.
 */
public final class FrameDecoder {
    /** Supplies a buffer with at least {@code bytes} writable bytes, or null when none can be had now. */
    @FunctionalInterface
    public interface BodyBuffers {
        ByteBuf acquire(int bytes);

        /** Takes back a body the decoder acquired but never delivered (the connection closed mid-frame). */
        default void giveBack(ByteBuf body) {
            body.release();
        }

        /**
         * True to have a body that arrived whole inside one chunk handed over as a retained slice of that chunk,
         * without {@link #acquire} and without a copy. Only for owners whose bodies need no accounting of their
         * own: a slice keeps the whole chunk alive until it is released.
         */
        default boolean slicesWholeBodies() {
            return false;
        }
    }

    public interface Listener {
        /** A whole frame. {@code body} holds exactly {@code header.bodyLength()} readable bytes and is the listener's to release. */
        void onFrame(FrameHeader header, ByteBuf body);

        /** A frame whose body was skipped; the stream is intact and decoding goes on. */
        void onRejected(FrameHeader header, ProtocolException error);

        /** The stream cannot be trusted any more; no further callbacks follow. */
        void onFramingLost(ProtocolException error);
    }

    private enum State { HEADER, BODY, SKIP, DEAD }

    private int maxBodyBytes;
    private final BodyBuffers bodyBuffers;
    private final Listener listener;
    private final ByteBuf header = Unpooled.buffer(Frame.HEADER_BYTES, Frame.HEADER_BYTES);
    private State state = State.HEADER;
    private FrameHeader current;
    private ByteBuf body;
    private long skipRemaining;
    private int peerVersion = Frame.VERSION;
    private boolean paused;

    public FrameDecoder(int maxBodyBytes, BodyBuffers bodyBuffers, Listener listener) {
        if (maxBodyBytes < 0 || maxBodyBytes > Frame.MAX_BODY_BYTES) {
            throw new IllegalArgumentException("maxBodyBytes must be within 0.." + Frame.MAX_BODY_BYTES + ", got " + maxBodyBytes);
        }
        this.maxBodyBytes = maxBodyBytes;
        this.bodyBuffers = bodyBuffers;
        this.listener = listener;
    }

    /**
     * Changes the body limit for frames whose header has not arrived yet. A server starts a connection with
     * a limit that fits only a HELLO and raises it once the peer has authenticated, so that a stranger can
     * never make it hold a large buffer.
     */
    public void maxBodyBytes(int bytes) {
        if (bytes < 0 || bytes > Frame.MAX_BODY_BYTES) {
            throw new IllegalArgumentException("maxBodyBytes must be within 0.." + Frame.MAX_BODY_BYTES + ", got " + bytes);
        }
        this.maxBodyBytes = bytes;
    }

    /**
     * Cuts frames out of {@code chunk} and hands them to the listener, until the chunk is used up or the
     * listener {@link #pause}s the decoder; then the unread rest stays in the chunk for a later call.
     */
    public void feed(ByteBuf chunk) {
        while (chunk.isReadable() && state != State.DEAD && !paused) {
            switch (state) {
                case HEADER -> readHeader(chunk);
                case BODY -> readBody(chunk);
                case SKIP -> skipBody(chunk);
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    /**
     * Stops {@link #feed} after the frame being delivered: the owner's back-pressure, which must hold for frames
     * already received in the same chunk, not only for the next read from the socket.
     */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    public boolean paused() {
        return paused;
    }

    /** True once the stream was found untrustworthy. */
    public boolean isDead() {
        return state == State.DEAD;
    }

    /**
     * The header version of the last frame header read: after {@link Listener#onFramingLost} for a version
     * mismatch, the version the peer speaks, so the refusal can be written in a layout it reads.
     */
    public int peerVersion() {
        return peerVersion;
    }

    /** Gives a partly received body back to its {@link BodyBuffers}; call when the connection closes. */
    public void close() {
        if (body != null) {
            bodyBuffers.giveBack(body);
            body = null;
        }
        state = State.DEAD;
    }

    private void readHeader(ByteBuf chunk) {
        int n = Math.min(chunk.readableBytes(), header.writableBytes());
        header.writeBytes(chunk, n);
        if (header.isWritable()) {
            return;
        }
        int magic = header.getInt(Frame.MAGIC_OFFSET);
        int version = header.getUnsignedByte(Frame.VERSION_OFFSET);
        int opcode = header.getUnsignedByte(Frame.OPCODE_OFFSET);
        int flags = header.getUnsignedShort(Frame.FLAGS_OFFSET);
        long requestId = header.getLong(Frame.REQUEST_ID_OFFSET);
        long bodyLength = header.getUnsignedInt(Frame.BODY_LENGTH_OFFSET);
        int status = header.getUnsignedShort(Frame.STATUS_OFFSET);
        header.clear();
        if (magic != Frame.MAGIC) {
            die(new ProtocolException(Status.MALFORMED, true,
                "bad magic 0x" + Integer.toHexString(magic) + ": not a pagepool peer"));
            return;
        }
        peerVersion = version;
        if (version != Frame.VERSION) {
            die(new ProtocolException(Status.UNSUPPORTED_VERSION, true,
                "peer speaks protocol version " + version + ", this side only version " + Frame.VERSION
                    + (version < Frame.VERSION ? ": upgrade the peer" : ": upgrade this side")));
            return;
        }
        current = new FrameHeader(opcode, flags, requestId, (int) Math.min(bodyLength, Integer.MAX_VALUE), status);
        if (bodyLength > maxBodyBytes) {
            startSkip(bodyLength, new ProtocolException(Status.TOO_LARGE, false,
                "body of " + bodyLength + " bytes exceeds the limit of " + maxBodyBytes));
            return;
        }
        // A response keeps the opcode of its request, even one this side does not know (an error reply to an
        // unknown opcode), so only requests are refused for their opcode.
        if (!Opcode.isKnown(opcode) && (flags & Frame.FLAG_RESPONSE) == 0) {
            startSkip(bodyLength, new ProtocolException(Status.UNKNOWN_OPCODE, false, "unknown opcode " + opcode));
            return;
        }
        if (bodyBuffers.slicesWholeBodies() && chunk.readableBytes() >= bodyLength) {
            FrameHeader h = current;
            current = null;
            listener.onFrame(h, chunk.readRetainedSlice((int) bodyLength));
            return;
        }
        body = bodyBuffers.acquire((int) bodyLength);
        if (body == null) {
            startSkip(bodyLength, new ProtocolException(Status.BUSY, false,
                "no buffer free for a " + bodyLength + "-byte body; retry"));
            return;
        }
        state = State.BODY;
        if (bodyLength == 0) {
            deliver();
        }
    }

    private void readBody(ByteBuf chunk) {
        int missing = current.bodyLength() - body.readableBytes();
        int n = Math.min(missing, chunk.readableBytes());
        body.writeBytes(chunk, n);
        if (n == missing) {
            deliver();
        }
    }

    private void deliver() {
        ByteBuf done = body;
        FrameHeader h = current;
        body = null;
        current = null;
        state = State.HEADER;
        listener.onFrame(h, done);
    }

    /**
     * Reports the frame as rejected at once, from its header alone, then discards its body as it arrives: the
     * peer learns of the refusal without first having to send (say) a gigabyte it announced.
     */
    private void startSkip(long bytes, ProtocolException reason) {
        FrameHeader h = current;
        current = null;
        skipRemaining = bytes;
        state = bytes == 0 ? State.HEADER : State.SKIP;
        listener.onRejected(h, reason);
    }

    private void skipBody(ByteBuf chunk) {
        int n = (int) Math.min(skipRemaining, chunk.readableBytes());
        chunk.skipBytes(n);
        skipRemaining -= n;
        if (skipRemaining == 0 && state == State.SKIP) {
            state = State.HEADER;
        }
    }

    private void die(ProtocolException error) {
        state = State.DEAD;
        listener.onFramingLost(error);
    }
}
