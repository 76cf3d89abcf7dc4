package dev.pagepool.protocol;

import static dev.pagepool.protocol.DecoderHarness.concat;
import static dev.pagepool.protocol.DecoderHarness.encode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.DecoderHarness.Delivered;
import dev.pagepool.protocol.DecoderHarness.Event;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** However the socket cuts the byte stream, the decoder gives the same frames in the same order. */
class FrameDecoderStreamTest {
    /** A conversation of every frame kind, requests and replies, small enough to cut at every chunk size. */
    static byte[] mixedStream() {
        byte[] page = TestPages.page(5);
        return concat(
            encode(out -> FrameWriter.hello(out, 1, 77, java.util.Arrays.copyOf(page, Frame.NONCE_BYTES))),
            encode(out -> FrameWriter.helloReply(out, 1, 256, Frame.MAX_BODY_BYTES, new byte[Frame.NONCE_BYTES],
                java.util.Arrays.copyOf(page, Frame.PROOF_BYTES), "donor-a")),
            encode(out -> FrameWriter.auth(out, 1, java.util.Arrays.copyOf(page, Frame.PROOF_BYTES), new OwnerKey(5, 6))),
            encode(out -> FrameWriter.authReply(out, 1)),
            encode(out -> FrameWriter.newPool(out, 2, PoolSpec.sharedPool(false, new UUID(3, 4)))),
            encode(out -> FrameWriter.newPoolReply(out, 2, 9)),
            encode(out -> {
                FrameWriter.vector(out, Opcode.PUT, 0, 3, 9, 1);
                FrameWriter.putEntry(out, 10, 11, TestPages.crc32c(page), 12, page, 0);
            }),
            encode(out -> {
                int start = FrameWriter.statusVectorReply(out, Opcode.PUT, 3, 1);
                out.writeByte(Status.PAGE_OK);
                FrameWriter.patchBodyLength(out, start);
            }),
            encode(out -> {
                FrameWriter.vector(out, Opcode.GET, Frame.FLAG_EXCLUSIVE, 4, 9, 2);
                FrameWriter.keyEntry(out, 10, 11);
                FrameWriter.keyEntry(out, 10, 12);
            }),
            encode(out -> FrameWriter.stats(out, 5)),
            encode(out -> FrameWriter.ping(out, 6, 42)),
            encode(out -> FrameWriter.error(out, Opcode.DESTROY_POOL, 7, Status.NO_SUCH_POOL, "no pool 9")),
            encode(out -> {
                FrameWriter.vector(out, Opcode.FLUSH_OBJECT, 0, 8, 9, 3);
                FrameWriter.objectEntry(out, 1);
                FrameWriter.objectEntry(out, 2);
                FrameWriter.objectEntry(out, 3);
            }),
            encode(out -> FrameWriter.destroyPool(out, 9, 9)));
    }

    private static List<Event> decodeWhole(byte[] stream) {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(stream);
        harness.closeAndCheckReleased();
        return harness.events;
    }

    @Test
    void manyFramesInOneChunkAreAllDelivered() {
        List<Event> events = decodeWhole(mixedStream());
        assertEquals(14, events.size());
        for (Event event : events) {
            DecoderHarness.assertInstance(Delivered.class, event);
        }
        long[] ids = events.stream().mapToLong(e -> ((Delivered) e).header().requestId()).toArray();
        assertEquals("[1, 1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9]", Arrays.toString(ids), "frames come out in stream order");
    }

    @Test
    void chunksOfEverySizeGiveIdenticalFrames() {
        byte[] stream = mixedStream();
        List<Event> expected = decodeWhole(stream);
        for (int chunk = 1; chunk <= stream.length; chunk++) {
            DecoderHarness harness = new DecoderHarness();
            harness.feedInChunks(stream, chunk);
            assertEquals(expected, harness.events, "chunk size " + chunk);
            harness.closeAndCheckReleased();
        }
    }

    @Test
    void randomSplitsGiveIdenticalFrames() {
        byte[] stream = mixedStream();
        List<Event> expected = decodeWhole(stream);
        SplittableRandom random = new SplittableRandom(20261123);
        for (int trial = 0; trial < 500; trial++) {
            int[] cuts = random.ints(random.nextInt(1, 40), 0, stream.length + 1).sorted().toArray();
            DecoderHarness harness = new DecoderHarness();
            harness.feedCutAt(stream, cuts);
            assertEquals(expected, harness.events, () -> "cuts " + Arrays.toString(cuts));
            harness.closeAndCheckReleased();
        }
    }

    @Test
    void fullSizePutVectorsSurviveRandomSplitsAndByteAtATimeHeaders() {
        byte[] put = encode(out -> {
            FrameWriter.vector(out, Opcode.PUT, 0, 1, 2, Frame.MAX_PAGES_PER_FRAME);
            for (int i = 0; i < Frame.MAX_PAGES_PER_FRAME; i++) {
                byte[] page = TestPages.page(i);
                FrameWriter.putEntry(out, i, i, TestPages.crc32c(page), i, page, 0);
            }
        });
        byte[] stream = concat(put, encode(out -> FrameWriter.ping(out, 2, 3)), put);
        List<Event> expected = decodeWhole(stream);
        assertEquals(3, expected.size());
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            int[] cuts = random.ints(random.nextInt(1, 2000), 0, stream.length + 1).sorted().toArray();
            DecoderHarness harness = new DecoderHarness(Frame.MAX_BODY_BYTES, call -> false, trial % 2 == 0);
            harness.feedCutAt(stream, cuts);
            assertEquals(expected, harness.events);
            harness.closeAndCheckReleased();
        }
        // Headers a byte at a time, bodies in one go.
        DecoderHarness harness = new DecoderHarness();
        for (int i = 0; i < Frame.HEADER_BYTES; i++) {
            harness.feed(put, i, 1);
        }
        assertTrue(harness.events.isEmpty());
        harness.feed(put, Frame.HEADER_BYTES, put.length - Frame.HEADER_BYTES);
        assertEquals(expected.get(0), harness.onlyFrame());
        harness.closeAndCheckReleased();
    }

    @Test
    void bodyBufferIsAskedForExactlyTheBodyLengthOnceTheHeaderIsComplete() {
        byte[] ping = encode(out -> FrameWriter.ping(out, 1, 2));
        DecoderHarness harness = new DecoderHarness();
        harness.feed(ping, 0, Frame.HEADER_BYTES - 1);
        assertTrue(harness.acquired.isEmpty(), "nothing is acquired before the header is complete");
        harness.feed(ping, Frame.HEADER_BYTES - 1, 1);
        assertEquals(List.of(8), harness.acquired);
        assertTrue(harness.events.isEmpty(), "the frame waits for its body");
        harness.feed(ping, Frame.HEADER_BYTES, 8);
        harness.onlyFrame();
        harness.closeAndCheckReleased();
    }

    @Test
    void emptyBodyIsDeliveredAsSoonAsTheHeaderEnds() {
        byte[] stats = encode(out -> FrameWriter.stats(out, 1));
        DecoderHarness harness = new DecoderHarness();
        harness.feed(stats);
        assertEquals(0, harness.onlyFrame().header().bodyLength());
        harness.closeAndCheckReleased();
    }

    @Test
    void closeReleasesAPartlyReceivedBody() {
        byte[] ping = encode(out -> FrameWriter.ping(out, 1, 2));
        DecoderHarness harness = new DecoderHarness();
        harness.feed(ping, 0, ping.length - 1);
        assertTrue(harness.events.isEmpty());
        assertEquals(1, harness.handedOut.get(0).refCnt());
        harness.closeAndCheckReleased();
        harness.feed(ping);
        assertTrue(harness.events.isEmpty(), "a closed decoder reports nothing");
    }
}
