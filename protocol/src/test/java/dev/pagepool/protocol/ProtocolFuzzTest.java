package dev.pagepool.protocol;

import static dev.pagepool.protocol.DecoderHarness.concat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.DecoderHarness.Delivered;
import dev.pagepool.protocol.DecoderHarness.Event;
import dev.pagepool.protocol.DecoderHarness.Lost;
import dev.pagepool.protocol.DecoderHarness.Rejected;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Generated input for the decoder and the body checker: whatever arrives, the only way out is a listener callback
 * or a {@link ProtocolException}, and whatever passes the checks can be read without leaving the body.
 */
class ProtocolFuzzTest {
    /** A small decoder limit so that oversized bodies are cheap to generate and skip. */
    private static final int FUZZ_MAX_BODY_BYTES = 600;
    private static final Set<Integer> REJECTION_STATUSES = Set.of(Status.TOO_LARGE, Status.UNKNOWN_OPCODE, Status.BUSY);
    private static final Set<Integer> LOST_STATUSES = Set.of(Status.MALFORMED, Status.UNSUPPORTED_VERSION);

    /** Every fourth body buffer request is refused; which one depends only on the frame order, not the chunking. */
    private static DecoderHarness fuzzHarness() {
        return new DecoderHarness(FUZZ_MAX_BODY_BYTES, call -> call % 4 == 3, false);
    }

    private static int[] cuts(int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int pieces = random.nextInt(0, 1 + Math.min(64, length));
        return random.ints(pieces, 0, length + 1).sorted().toArray();
    }

    /** The invariants of any decoding, however wild the input. */
    private static void assertWellBehaved(DecoderHarness harness) {
        assertEquals(0, harness.callbacksAfterLost(), "nothing is reported after the framing is lost");
        for (int i = 0; i < harness.events.size(); i++) {
            Event event = harness.events.get(i);
            if (event instanceof Delivered frame) {
                assertTrue(Opcode.isKnown(frame.header().opcode()) || frame.header().isResponse(),
                    "requests are delivered only with known opcodes; a response keeps its request's opcode");
                assertTrue(frame.header().bodyLength() <= FUZZ_MAX_BODY_BYTES);
            } else if (event instanceof Rejected rejected) {
                assertTrue(REJECTION_STATUSES.contains(rejected.status()), () -> "rejection status " + rejected);
                assertFalse(rejected.framingLost());
            } else if (event instanceof Lost lost) {
                assertTrue(LOST_STATUSES.contains(lost.status()), () -> "lost status " + lost);
                assertTrue(lost.framingLost());
                assertEquals(harness.events.size() - 1, i, "framing lost is the last callback");
            }
        }
        for (int size : harness.acquired) {
            assertTrue(size >= 0 && size <= FUZZ_MAX_BODY_BYTES, () -> "acquire(" + size + ") beyond the limit");
        }
        harness.closeAndCheckReleased();
    }

    // ---- the decoder ----

    @Property(tries = 500)
    void randomBytesInRandomChunksOnlyEverReachTheListener(@ForAll @Size(max = 3000) byte[] stream, @ForAll long seed) {
        DecoderHarness harness = fuzzHarness();
        harness.feedCutAt(stream, cuts(stream.length, seed));
        assertWellBehaved(harness);
    }

    /**
     * Frames with plausible headers: mostly the right magic and version, any opcode, lengths around and above the
     * limit, bodies of random bytes that may stop short of the declared length.
     */
    @Provide
    Arbitrary<byte[]> plausibleStreams() {
        Arbitrary<Integer> magic = Arbitraries.frequencyOf(
            Tuple.of(80, Arbitraries.just(Frame.MAGIC)), Tuple.of(1, Arbitraries.integers()));
        Arbitrary<Integer> version = Arbitraries.frequencyOf(
            Tuple.of(80, Arbitraries.just(Frame.VERSION)), Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<Integer> opcode = Arbitraries.frequencyOf(
            Tuple.of(5, Arbitraries.integers().between(1, 9)), Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<Long> length = Arbitraries.frequencyOf(
            Tuple.of(10, Arbitraries.longs().between(0, 200)),
            Tuple.of(3, Arbitraries.longs().between(FUZZ_MAX_BODY_BYTES - 2, FUZZ_MAX_BODY_BYTES + 2)),
            Tuple.of(1, Arbitraries.longs().between(0, 0xFFFF_FFFFL)));
        Arbitrary<Integer> shortfall = Arbitraries.frequencyOf(
            Tuple.of(40, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(1, 50)));
        Arbitrary<byte[]> frame = Combinators.combine(magic, version, opcode, Arbitraries.integers().between(0, 0xFFFF),
                Arbitraries.longs(), length, shortfall, Arbitraries.longs())
            .as((m, v, op, flags, id, len, missing, fill) -> {
                byte[] header = DecoderHarness.rawHeader(m, v, op, flags, id, len, 0);
                // A huge declared length is never delivered in full: the stream simply ends inside the body.
                int bodyBytes = (int) Math.max(0, Math.min(len, 2000) - missing);
                byte[] body = new byte[bodyBytes];
                new SplittableRandom(fill).nextBytes(body);
                return concat(header, body);
            });
        return frame.list().ofMaxSize(12).map(frames -> concat(frames.toArray(new byte[0][])));
    }

    @Property(tries = 500)
    void plausibleFramesInRandomChunksOnlyEverReachTheListener(@ForAll("plausibleStreams") byte[] stream, @ForAll long seed) {
        DecoderHarness harness = fuzzHarness();
        harness.feedCutAt(stream, cuts(stream.length, seed));
        // The generator must reach every path of the decoder, not just the first bad header.
        for (String kind : List.of("delivered", "TOO_LARGE", "UNKNOWN_OPCODE", "BUSY", "framing lost")) {
            Statistics.label(kind).collect(harness.events.stream().anyMatch(e -> kind.equals(kindOf(e))));
            Statistics.label(kind).coverage(coverage -> coverage.check(true).percentage(p -> p >= 3));
        }
        assertWellBehaved(harness);
    }

    private static String kindOf(Event event) {
        if (event instanceof Rejected rejected) {
            return Status.requestName(rejected.status());
        }
        return event instanceof Delivered ? "delivered" : "framing lost";
    }

    @Property(tries = 300)
    void chunkingNeverChangesWhatIsDecoded(@ForAll("plausibleStreams") byte[] stream, @ForAll long seed) {
        DecoderHarness whole = fuzzHarness();
        whole.feed(stream);
        DecoderHarness cut = fuzzHarness();
        cut.feedCutAt(stream, cuts(stream.length, seed));
        assertEquals(whole.events, cut.events);
        assertEquals(whole.acquired, cut.acquired);
        assertWellBehaved(whole);
        assertWellBehaved(cut);
    }

    /** Streams of valid request frames, remembering where each frame ends. */
    record ValidStream(byte[] bytes, int[] frameEnds) {
    }

    @Provide
    Arbitrary<ValidStream> validStreams() {
        Arbitrary<byte[]> frame = Combinators.combine(
                Arbitraries.of(Opcode.HELLO, Opcode.NEW_POOL, Opcode.DESTROY_POOL, Opcode.PUT, Opcode.GET,
                    Opcode.FLUSH_PAGE, Opcode.FLUSH_OBJECT, Opcode.STATS, Opcode.PING, Opcode.AUTH),
                Arbitraries.integers().between(0, 3), Arbitraries.longs(), Arbitraries.longs())
            .as((opcode, size, id, seed) -> {
                byte[] body = TestPages.validBody(opcode, opcode == Opcode.PUT ? size % 2 : size * 7, seed);
                ByteBuf out = Unpooled.buffer();
                FrameWriter.header(out, opcode, 0, id, body.length, Status.OK);
                out.writeBytes(body);
                byte[] bytes = new byte[out.readableBytes()];
                out.readBytes(bytes);
                return bytes;
            });
        return frame.list().ofMinSize(1).ofMaxSize(6).map(frames -> {
            int[] ends = new int[frames.size()];
            int at = 0;
            for (int i = 0; i < frames.size(); i++) {
                at += frames.get(i).length;
                ends[i] = at;
            }
            return new ValidStream(concat(frames.toArray(new byte[0][])), ends);
        });
    }

    @Property(tries = 300)
    void truncatedValidStreamJustWaitsForTheRest(@ForAll("validStreams") ValidStream stream,
                                                 @ForAll @IntRange(min = 0, max = 1_000_000) int cutSeed,
                                                 @ForAll long seed) {
        byte[] bytes = stream.bytes();
        int cut = cutSeed % bytes.length; // strictly inside the stream: the last frame is always incomplete
        DecoderHarness full = new DecoderHarness();
        full.feed(bytes);
        assertEquals(stream.frameEnds().length, full.events.size());

        DecoderHarness harness = new DecoderHarness();
        byte[] prefix = java.util.Arrays.copyOf(bytes, cut);
        harness.feedCutAt(prefix, cuts(prefix.length, seed));
        int complete = 0;
        while (complete < stream.frameEnds().length && stream.frameEnds()[complete] <= cut) {
            complete++;
        }
        assertEquals(full.events.subList(0, complete), harness.events,
            "exactly the frames wholly inside the prefix, and no complaint about the partial one");
        assertFalse(harness.decoder.isDead());

        harness.feed(bytes, cut, bytes.length - cut);
        assertEquals(full.events, harness.events, "the rest of the stream completes it");
        harness.closeAndCheckReleased();
        full.closeAndCheckReleased();
    }

    // ---- the body checker ----

    /** A request header and a body that is often valid, often nearly so, sometimes noise. */
    record Request(FrameHeader header, byte[] body) {
        @Override
        public String toString() {
            return Opcode.name(header.opcode()) + " body of " + body.length + " bytes";
        }
    }

    @Provide
    Arbitrary<Request> requests() {
        Arbitrary<Integer> opcode = Arbitraries.frequencyOf(
            Tuple.of(10, Arbitraries.integers().between(1, 9)),
            Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<Integer> size = Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.integers().between(0, 4)),
            Tuple.of(2, Arbitraries.integers().between(250, 260)),
            Tuple.of(1, Arbitraries.integers().between(0, 0xFFFF)));
        Arbitrary<Integer> delta = Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(0)),
            Tuple.of(3, Arbitraries.integers().between(-20, 20)),
            Tuple.of(1, Arbitraries.integers().between(-5000, 5000)));
        Arbitrary<Integer> flips = Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.just(0)), Tuple.of(1, Arbitraries.integers().between(1, 6)));
        return Combinators.combine(opcode, size, delta, flips, Arbitraries.integers().between(0, 0xFFFF), Arbitraries.longs())
            .as((op, n, d, flipCount, flags, seed) -> {
                SplittableRandom random = new SplittableRandom(seed);
                byte[] base;
                if (Opcode.isKnown(op) && op != Opcode.STATS) {
                    // Keep the promise of the count small enough to build: a vector of up to 260 entries.
                    int buildable = op == Opcode.PUT ? Math.min(n, 260) : Math.min(n, 300);
                    base = TestPages.validBody(op, buildable, seed);
                    if (buildable != n && base.length >= Frame.VECTOR_PREFIX_BYTES && op != Opcode.HELLO && op != Opcode.AUTH && op != Opcode.PING) {
                        base[Frame.VECTOR_COUNT_OFFSET] = (byte) (n >>> 8); // claim more entries than are there
                        base[Frame.VECTOR_COUNT_OFFSET + 1] = (byte) n.intValue();
                    }
                } else {
                    base = new byte[random.nextInt(0, 64)];
                    random.nextBytes(base);
                }
                byte[] body = java.util.Arrays.copyOf(base, Math.max(0, base.length + d));
                for (int i = base.length; i < body.length; i++) {
                    body[i] = (byte) random.nextInt();
                }
                for (int i = 0; i < flipCount && body.length > 0; i++) {
                    // Flips favour the first bytes, where counts, lengths and flags live.
                    int at = random.nextBoolean() ? random.nextInt(Math.min(16, body.length)) : random.nextInt(body.length);
                    body[at] = (byte) random.nextInt();
                }
                return new Request(new FrameHeader(op, flags, seed, body.length, Status.OK), body);
            });
    }

    @Property(tries = 1000)
    void checkRequestEitherPassesOrThrowsProtocolExceptionAndPassedBodiesReadInBounds(
            @ForAll("requests") Request request, @ForAll @IntRange(min = 0, max = 40) int junk) {
        ByteBuf bounded = TestPages.exactlyBounded(request.body(), junk);
        try {
            Bodies.checkRequest(request.header(), bounded);
            collectOutcome("passed");
        } catch (ProtocolException e) {
            collectOutcome(Status.requestName(e.status()));
            assertTrue(Set.of(Status.MALFORMED, Status.TOO_LARGE, Status.UNKNOWN_OPCODE).contains(e.status()),
                () -> "status " + Status.requestName(e.status()));
            assertFalse(e.framingLost(), "a body never loses the framing");
            return;
        }
        // Passed: every accessor for every entry stays inside the body (the buffer ends where the body ends) and
        // reads relative to the reader index (the same values as from a buffer starting at the body).
        List<Object> values = TestPages.readAll(request.header(), bounded);
        assertEquals(TestPages.readAll(request.header(), Unpooled.wrappedBuffer(request.body())), values);
        assertEquals(junk, bounded.readerIndex());
        assertEquals(junk + request.body().length, bounded.writerIndex());
        if (request.header().opcode() >= Opcode.PUT && request.header().opcode() <= Opcode.FLUSH_OBJECT) {
            assertTrue(Bodies.count(bounded) <= Frame.MAX_PAGES_PER_FRAME);
        }
    }

    /** The generator must produce bodies that pass as well as every kind of failure. */
    private static void collectOutcome(String outcome) {
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(coverage -> {
            coverage.check("passed").percentage(p -> p >= 15);
            coverage.check("MALFORMED").percentage(p -> p >= 15);
            coverage.check("TOO_LARGE").percentage(p -> p >= 2);
            coverage.check("UNKNOWN_OPCODE").percentage(p -> p >= 2);
        });
    }

    @Property(tries = 300)
    void passedVectorBodiesHaveExactlyTheLengthTheirCountPromises(@ForAll("requests") Request request) {
        ByteBuf body = Unpooled.wrappedBuffer(request.body());
        int opcode = request.header().opcode();
        if (opcode < Opcode.PUT || opcode > Opcode.FLUSH_OBJECT) {
            return;
        }
        try {
            Bodies.checkRequest(request.header(), body);
        } catch (ProtocolException e) {
            return;
        }
        int count = Bodies.count(body);
        int expected = switch (opcode) {
            case Opcode.PUT -> Frame.putBodyBytes(count);
            case Opcode.FLUSH_OBJECT -> Frame.flushObjectBodyBytes(count);
            default -> Frame.keyBodyBytes(count);
        };
        assertEquals(expected, request.body().length);
    }

    // ---- writer and reader agree ----

    @Property(tries = 300)
    void anyKeyVectorTheWriterProducesPassesTheCheckAndReadsBack(
            @ForAll @Size(max = Frame.MAX_PAGES_PER_FRAME) List<@IntRange(min = Integer.MIN_VALUE) Integer> indexes,
            @ForAll int pool, @ForAll long objectBase) {
        ByteBuf out = Unpooled.buffer();
        FrameWriter.vector(out, Opcode.FLUSH_PAGE, 0, 1, pool, indexes.size());
        for (int i = 0; i < indexes.size(); i++) {
            FrameWriter.keyEntry(out, objectBase + i, indexes.get(i));
        }
        DecoderHarness harness = new DecoderHarness();
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        harness.feed(bytes);
        Delivered frame = harness.onlyFrame();
        ByteBuf body = frame.bodyBuf();
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(() -> Bodies.checkRequest(frame.header(), body));
        assertEquals(pool, Bodies.pool(body));
        List<Integer> read = new ArrayList<>();
        for (int i = 0; i < Bodies.count(body); i++) {
            assertEquals(objectBase + i, Bodies.keyObject(body, i));
            read.add(Bodies.keyIndex(body, i));
        }
        assertEquals(indexes, read);
        harness.closeAndCheckReleased();
    }
}
