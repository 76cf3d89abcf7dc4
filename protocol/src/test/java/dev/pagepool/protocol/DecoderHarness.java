package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * A {@link FrameDecoder} wired to a listener that records every callback and to body buffers that record every
 * request, so tests can compare what came out of a stream with what went in.
 */
final class DecoderHarness implements FrameDecoder.Listener, FrameDecoder.BodyBuffers {
    sealed interface Event permits Delivered, Rejected, Lost {
    }

    /** A whole frame; the body is copied out so the decoder's buffer can be released at once. */
    record Delivered(FrameHeader header, ByteBuffer body) implements Event {
        byte[] bodyBytes() {
            byte[] copy = new byte[body.remaining()];
            body.duplicate().get(copy);
            return copy;
        }

        ByteBuf bodyBuf() {
            return Unpooled.wrappedBuffer(bodyBytes());
        }
    }

    record Rejected(FrameHeader header, int status, boolean framingLost) implements Event {
    }

    record Lost(int status, boolean framingLost) implements Event {
    }

    final List<Event> events = new ArrayList<>();
    /** Every size passed to {@link #acquire}, in call order. */
    final List<Integer> acquired = new ArrayList<>();
    /** Every buffer handed to the decoder, to check that each one is released in the end. */
    final List<ByteBuf> handedOut = new ArrayList<>();
    final FrameDecoder decoder;
    private final IntPredicate refuseCall;
    private final boolean direct;
    private int callbacksAfterLost;

    DecoderHarness() {
        this(Frame.MAX_BODY_BYTES);
    }

    DecoderHarness(int maxBodyBytes) {
        this(maxBodyBytes, call -> false, false);
    }

    /**
     * @param refuseCall given the 0-based number of an acquire call, true to answer it with null (no buffer)
     * @param direct     hand out direct buffers instead of heap ones
     */
    DecoderHarness(int maxBodyBytes, IntPredicate refuseCall, boolean direct) {
        this.refuseCall = refuseCall;
        this.direct = direct;
        this.decoder = new FrameDecoder(maxBodyBytes, this, this);
    }

    @Override
    public ByteBuf acquire(int bytes) {
        int call = acquired.size();
        acquired.add(bytes);
        if (refuseCall.test(call)) {
            return null;
        }
        // Exactly the capacity asked for: a decoder that wrote past the body would fail loudly.
        ByteBuf buf = direct ? Unpooled.directBuffer(bytes, bytes) : Unpooled.buffer(bytes, bytes);
        handedOut.add(buf);
        return buf;
    }

    @Override
    public void onFrame(FrameHeader header, ByteBuf body) {
        checkAlive();
        try {
            assertEquals(header.bodyLength(), body.readableBytes(), "body holds exactly the header's length");
            byte[] copy = new byte[body.readableBytes()];
            body.getBytes(body.readerIndex(), copy);
            events.add(new Delivered(header, ByteBuffer.wrap(copy)));
        } finally {
            body.release();
        }
    }

    @Override
    public void onRejected(FrameHeader header, ProtocolException error) {
        checkAlive();
        events.add(new Rejected(header, error.status(), error.framingLost()));
    }

    @Override
    public void onFramingLost(ProtocolException error) {
        checkAlive();
        events.add(new Lost(error.status(), error.framingLost()));
    }

    private void checkAlive() {
        if (!events.isEmpty() && events.get(events.size() - 1) instanceof Lost) {
            callbacksAfterLost++;
        }
    }

    int callbacksAfterLost() {
        return callbacksAfterLost;
    }

    /** Feeds one chunk and checks the decoder consumed all of it (unless the stream died). */
    void feed(byte[] bytes, int offset, int length) {
        ByteBuf chunk = Unpooled.wrappedBuffer(bytes, offset, length);
        decoder.feed(chunk);
        if (!decoder.isDead()) {
            assertFalse(chunk.isReadable(), "feed leaves no byte of a chunk unread");
        }
    }

    void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    /** Feeds {@code stream} in chunks of {@code chunk} bytes (the last one shorter). */
    void feedInChunks(byte[] stream, int chunk) {
        for (int at = 0; at < stream.length; at += chunk) {
            feed(stream, at, Math.min(chunk, stream.length - at));
        }
    }

    /** Feeds {@code stream} cut at the given ascending positions. */
    void feedCutAt(byte[] stream, int[] cuts) {
        int at = 0;
        for (int cut : cuts) {
            feed(stream, at, cut - at);
            at = cut;
        }
        feed(stream, at, stream.length - at);
    }

    /** Closes the decoder and checks that every body buffer it was given has been released. */
    void closeAndCheckReleased() {
        decoder.close();
        for (ByteBuf buf : handedOut) {
            if (buf.maxCapacity() == 0) {
                continue; // Netty's shared empty buffer: its reference count never changes
            }
            assertEquals(0, buf.refCnt(), "every body buffer is released by the listener or on close");
        }
        assertTrue(decoder.isDead());
    }

    Delivered onlyFrame() {
        assertEquals(1, events.size(), () -> "exactly one event, got " + events);
        return assertInstance(Delivered.class, events.get(0));
    }

    Event onlyFrameOrEvent() {
        assertEquals(1, events.size(), () -> "exactly one event, got " + events);
        return events.get(0);
    }

    static <T> T assertInstance(Class<T> type, Object value) {
        assertTrue(type.isInstance(value), () -> "expected a " + type.getSimpleName() + ", got " + value);
        return type.cast(value);
    }

    /** The bytes a writer puts into a fresh buffer. */
    static byte[] encode(Consumer<ByteBuf> writer) {
        ByteBuf out = Unpooled.buffer();
        writer.accept(out);
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }

    /** A header with every field chosen by the caller, including ones a correct writer never produces. */
    static byte[] rawHeader(int magic, int version, int opcode, int flags, long requestId, long bodyLength, int status) {
        ByteBuf out = Unpooled.buffer(Frame.HEADER_BYTES);
        out.writeInt(magic);
        out.writeByte(version);
        out.writeByte(opcode);
        out.writeShort(flags);
        out.writeLong(requestId);
        out.writeInt((int) bodyLength);
        out.writeShort(status);
        out.writeShort(0);
        return out.array();
    }
}
