package dev.pagepool.protocol;

import static dev.pagepool.protocol.DecoderHarness.assertInstance;
import static dev.pagepool.protocol.DecoderHarness.concat;
import static dev.pagepool.protocol.DecoderHarness.encode;
import static dev.pagepool.protocol.DecoderHarness.rawHeader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.DecoderHarness.Delivered;
import dev.pagepool.protocol.DecoderHarness.Lost;
import dev.pagepool.protocol.DecoderHarness.Rejected;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Input from a peer that is broken or hostile. Bad headers cost the peer its frame, never the decoder its
 * memory: only a wrong magic or version gives up on the stream; everything else skips the body and goes on.
 */
class FrameDecoderHostileInputTest {
    private static final byte[] PING = encode(out -> FrameWriter.ping(out, 500, 0x5EED));

    private static void assertNextFrameIsThePing(DecoderHarness harness, int index) {
        Delivered next = assertInstance(Delivered.class, harness.events.get(index));
        assertEquals(Opcode.PING, next.header().opcode());
        assertEquals(500, next.header().requestId());
        assertEquals(0x5EED, next.bodyBuf().getLong(0));
    }

    // ---- framing lost ----

    @ParameterizedTest
    @ValueSource(ints = {0, 0x706F6C70, 0x70706F6D, 0xFFFFFFFF, 0x47455420 /* "GET " */})
    void badMagicLosesFramingWithMalformedAndNothingFollows(int magic) {
        DecoderHarness harness = new DecoderHarness();
        byte[] stream = concat(rawHeader(magic, Frame.VERSION, Opcode.PING, 0, 1, 8, 0), new byte[8], PING, PING);
        harness.feed(stream);
        assertEquals(List.of(new Lost(Status.MALFORMED, true)), harness.events);
        assertTrue(harness.decoder.isDead());
        harness.feed(PING);
        assertEquals(1, harness.events.size(), "no callback after the framing is lost");
        assertEquals(0, harness.callbacksAfterLost());
        assertTrue(harness.acquired.isEmpty(), "a frame with a bad magic gets no body buffer");
        harness.closeAndCheckReleased();
    }

    @Test
    void badMagicAfterGoodFramesStillDeliversTheGoodOnesFirst() {
        byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        DecoderHarness harness = new DecoderHarness();
        harness.feedInChunks(concat(PING, http, PING), 5);
        assertEquals(2, harness.events.size());
        assertNextFrameIsThePing(harness, 0);
        assertEquals(new Lost(Status.MALFORMED, true), harness.events.get(1));
        harness.closeAndCheckReleased();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 0x7F, 0xFF})
    void wrongVersionLosesFramingWithUnsupportedVersion(int version) {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(concat(rawHeader(Frame.MAGIC, version, Opcode.HELLO, 0, 1, 0, 0), PING));
        assertEquals(List.of(new Lost(Status.UNSUPPORTED_VERSION, true)), harness.events);
        assertTrue(harness.decoder.isDead());
        assertEquals(version, harness.decoder.peerVersion(), "the refusal can be written in the peer's version");
        harness.feed(PING);
        assertEquals(1, harness.events.size());
        assertTrue(harness.acquired.isEmpty());
        harness.closeAndCheckReleased();
    }

    // ---- too large: skipped, never buffered ----

    /** Feeds {@code count} bytes of zeros without allocating them: the same buffer, re-read. */
    private static void feedZeros(DecoderHarness harness, long count) {
        ByteBuf zeros = Unpooled.buffer(1 << 20, 1 << 20).writerIndex(1 << 20);
        while (count > 0) {
            int n = (int) Math.min(count, zeros.capacity());
            ByteBuf chunk = zeros.slice(0, n);
            harness.decoder.feed(chunk);
            assertFalse(chunk.isReadable());
            count -= n;
        }
    }

    @Test
    void bodyLengthOfFourGibibytesIsSkippedWithoutBufferingAndTheNextFrameIsDecoded() {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(rawHeader(Frame.MAGIC, Frame.VERSION, Opcode.PUT, 0, 77, 0xFFFF_FFFFL, 0));
        assertEquals(1, harness.events.size(), "the rejection is reported from the header, before any body arrives");
        feedZeros(harness, 0xFFFF_FFFFL - 1);
        assertEquals(1, harness.events.size(), "the skipped body produces nothing");
        // The last body byte, then a whole frame in the same chunk.
        harness.feed(concat(new byte[1], PING));
        assertEquals(2, harness.events.size());
        Rejected rejected = assertInstance(Rejected.class, harness.events.get(0));
        assertEquals(Status.TOO_LARGE, rejected.status());
        assertFalse(rejected.framingLost());
        assertEquals(Opcode.PUT, rejected.header().opcode());
        assertEquals(77, rejected.header().requestId(), "the rejection names the request, so the peer can be answered");
        assertNextFrameIsThePing(harness, 1);
        assertEquals(List.of(8), harness.acquired, "BodyBuffers.acquire was never asked for the huge body");
        harness.closeAndCheckReleased();
    }

    @Test
    void bodyLengthAboveLimitIsSkippedWithoutBuffering() {
        int limit = 1000;
        DecoderHarness harness = new DecoderHarness(limit);
        // The skipped body itself contains a well-formed frame: it must not be decoded.
        byte[] body = concat(PING, new byte[limit + 1 - PING.length]);
        byte[] stream = concat(rawHeader(Frame.MAGIC, Frame.VERSION, Opcode.PING, 0, 5, limit + 1, 0), body, PING);
        harness.feedInChunks(stream, 7);
        assertEquals(2, harness.events.size(), () -> harness.events.toString());
        assertEquals(Status.TOO_LARGE, assertInstance(Rejected.class, harness.events.get(0)).status());
        assertNextFrameIsThePing(harness, 1);
        assertEquals(List.of(8), harness.acquired);
        harness.closeAndCheckReleased();
    }

    @Test
    void bodyLengthExactlyAtTheLimitIsAccepted() {
        int limit = 1000;
        DecoderHarness harness = new DecoderHarness(limit);
        harness.feed(concat(rawHeader(Frame.MAGIC, Frame.VERSION, Opcode.PING, 0, 5, limit, 0), new byte[limit]));
        assertEquals(limit, harness.onlyFrame().header().bodyLength());
        harness.closeAndCheckReleased();
    }

    @Test
    void bodyLengthOneAboveTheProtocolMaximumIsTooLarge() {
        DecoderHarness harness = new DecoderHarness();
        long length = Frame.MAX_BODY_BYTES + 1L;
        harness.feed(rawHeader(Frame.MAGIC, Frame.VERSION, Opcode.PUT, 0, 1, length, 0));
        feedZeros(harness, length);
        harness.feed(PING);
        assertEquals(Status.TOO_LARGE, assertInstance(Rejected.class, harness.events.get(0)).status());
        assertNextFrameIsThePing(harness, 1);
        assertEquals(List.of(8), harness.acquired);
        harness.closeAndCheckReleased();
    }

    @Test
    void decoderRefusesALimitAboveTheProtocolMaximum() {
        assertThrows(IllegalArgumentException.class,
            () -> new FrameDecoder(Frame.MAX_BODY_BYTES + 1, bytes -> null, new DecoderHarness()));
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(-1, bytes -> null, new DecoderHarness()));
    }

    // ---- unknown opcode, busy ----

    @ParameterizedTest
    @ValueSource(ints = {0, 12, 0x7F, 0xFF})
    void unknownOpcodeIsRejectedAndTheNextFrameIsFine(int opcode) {
        DecoderHarness harness = new DecoderHarness();
        byte[] stream = concat(rawHeader(Frame.MAGIC, Frame.VERSION, opcode, 0, 9, 30, 0), new byte[30], PING);
        harness.feedInChunks(stream, 11);
        assertEquals(2, harness.events.size());
        Rejected rejected = assertInstance(Rejected.class, harness.events.get(0));
        assertEquals(Status.UNKNOWN_OPCODE, rejected.status());
        assertEquals(opcode, rejected.header().opcode());
        assertEquals(9, rejected.header().requestId());
        assertNextFrameIsThePing(harness, 1);
        assertEquals(List.of(8), harness.acquired, "an unknown opcode's body is never buffered");
        harness.closeAndCheckReleased();
    }

    @Test
    void unknownOpcodeWithEmptyBodyIsRejectedAtOnce() {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(rawHeader(Frame.MAGIC, Frame.VERSION, 200, 0, 9, 0, 0));
        assertEquals(Status.UNKNOWN_OPCODE, assertInstance(Rejected.class, harness.onlyFrameOrEvent()).status());
        harness.closeAndCheckReleased();
    }

    @Test
    void errorReplyToAnUnknownOpcodeIsDeliveredToTheRequester() {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(rawHeader(Frame.MAGIC, Frame.VERSION, 200, Frame.FLAG_RESPONSE, 9, 0, Status.UNKNOWN_OPCODE));
        assertEquals(9, assertInstance(Delivered.class, harness.onlyFrameOrEvent()).header().requestId());
        harness.closeAndCheckReleased();
    }

    @Test
    void noBodyBufferMeansBusyAndTheNextFrameIsFine() {
        DecoderHarness harness = new DecoderHarness(Frame.MAX_BODY_BYTES, call -> call == 0, false);
        harness.feedInChunks(concat(PING, PING), 3);
        assertEquals(2, harness.events.size());
        Rejected busy = assertInstance(Rejected.class, harness.events.get(0));
        assertEquals(Status.BUSY, busy.status());
        assertFalse(busy.framingLost());
        assertEquals(500, busy.header().requestId());
        assertNextFrameIsThePing(harness, 1);
        assertEquals(List.of(8, 8), harness.acquired);
        harness.closeAndCheckReleased();
    }

    @Test
    void busyWithEmptyBodyIsReportedAtOnce() {
        DecoderHarness harness = new DecoderHarness(Frame.MAX_BODY_BYTES, call -> true, false);
        harness.feed(encode(out -> FrameWriter.stats(out, 3)));
        assertEquals(Status.BUSY, assertInstance(Rejected.class, harness.onlyFrameOrEvent()).status());
        harness.closeAndCheckReleased();
    }

    @Test
    void headerStatusFlagsAndReservedBitsDoNotAffectFraming() {
        DecoderHarness harness = new DecoderHarness();
        byte[] odd = rawHeader(Frame.MAGIC, Frame.VERSION, Opcode.GET, 0xFFFF, -1L, 0, 0xFFFF);
        odd[22] = (byte) 0xFF;
        odd[23] = (byte) 0xFF;
        harness.feed(concat(odd, PING));
        assertEquals(2, harness.events.size());
        Delivered first = assertInstance(Delivered.class, harness.events.get(0));
        assertEquals(new FrameHeader(Opcode.GET, 0xFFFF, -1L, 0, 0xFFFF), first.header());
        assertNextFrameIsThePing(harness, 1);
        harness.closeAndCheckReleased();
    }
}
