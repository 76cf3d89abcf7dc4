package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Bodies#checkRequest} accepts exactly the layout of each opcode and turns everything else into a
 * {@link ProtocolException} (never an IndexOutOfBounds or any other exception), so the accessors can trust it.
 */
class BodiesCheckRequestTest {
    private static FrameHeader header(int opcode, int bodyLength) {
        return new FrameHeader(opcode, 0, 1, bodyLength, Status.OK);
    }

    private static ProtocolException rejected(int opcode, ByteBuf body) {
        return assertThrows(ProtocolException.class, () -> Bodies.checkRequest(header(opcode, body.readableBytes()), body));
    }

    private static void assertStatus(int expected, int opcode, byte[] body, String what) {
        assertStatus(expected, opcode, TestPages.exactlyBounded(body, 3), what);
    }

    private static void assertStatus(int expected, int opcode, ByteBuf body, String what) {
        ProtocolException e = rejected(opcode, body);
        assertEquals(expected, e.status(), () -> Opcode.name(opcode) + " " + what + ": " + e.getMessage());
        assertFalse(e.framingLost(), "a bad body never costs the stream");
    }

    /** Entry counts (vectors), token lengths (HELLO) or payload lengths (PING) to build valid bodies with. */
    private static int[] sizesFor(int opcode) {
        return switch (opcode) {
            case Opcode.PUT -> new int[] {0, 1, 2, Frame.MAX_PAGES_PER_FRAME};
            case Opcode.GET, Opcode.FLUSH_PAGE, Opcode.FLUSH_OBJECT -> new int[] {0, 1, 5, Frame.MAX_PAGES_PER_FRAME};
            case Opcode.PING -> new int[] {0, 8, Frame.MAX_PING_BYTES};
            default -> new int[] {0};
        };
    }

    /** Every prefix length for small bodies; for a full PUT vector, every entry boundary and its neighbours plus a stride. */
    private static int[] truncations(int length) {
        if (length <= 64 * 1024) {
            int[] all = new int[length];
            Arrays.setAll(all, i -> i);
            return all;
        }
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int at = 0; at < length; at += 997) {
            cuts.add(at);
        }
        for (int i = 0; i <= Frame.MAX_PAGES_PER_FRAME; i++) {
            int boundary = Frame.putBodyBytes(i);
            for (int d = -1; d <= 17; d++) {
                if (boundary + d >= 0 && boundary + d < length) {
                    cuts.add(boundary + d);
                }
            }
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void everyValidBodyPassesAndItsAccessorsStayWithinTheBody() {
        for (int opcode : TestPages.REQUEST_OPCODES) {
            for (int size : sizesFor(opcode)) {
                byte[] body = TestPages.validBody(opcode, size, opcode * 1000L + size);
                ByteBuf bounded = TestPages.exactlyBounded(body, 13);
                FrameHeader h = header(opcode, body.length);
                assertDoesNotThrow(() -> Bodies.checkRequest(h, bounded), () -> Opcode.name(opcode) + " size " + size);
                assertEquals(TestPages.readAll(h, Unpooled.wrappedBuffer(body)), TestPages.readAll(h, bounded),
                    "accessors read relative to the reader index");
                assertEquals(13, bounded.readerIndex(), "checking and reading move no index");
            }
        }
    }

    @Test
    void everyTruncatedBodyIsMalformed() {
        for (int opcode : TestPages.REQUEST_OPCODES) {
            if (opcode == Opcode.PING) {
                continue; // any PING body up to the limit is valid; see pingBodiesUpToTheLimitPassAndLongerOnesAreTooLarge
            }
            for (int size : sizesFor(opcode)) {
                byte[] body = TestPages.validBody(opcode, size, size);
                for (int length : truncations(body.length)) {
                    // A slice whose capacity ends at the cut: a read past it throws instead of seeing the rest.
                    assertStatus(Status.MALFORMED, opcode, Unpooled.wrappedBuffer(body, 0, length),
                        "truncated to " + length + " of " + body.length);
                }
            }
        }
    }

    @Test
    void everyExtendedBodyIsMalformed() {
        SplittableRandom random = new SplittableRandom(1);
        for (int opcode : TestPages.REQUEST_OPCODES) {
            if (opcode == Opcode.PING) {
                continue;
            }
            for (int size : sizesFor(opcode)) {
                byte[] body = TestPages.validBody(opcode, size, size);
                List<Integer> extras = List.of(1, 2, 3, 4, 7, 8, 11, 12, 13, 4111, 4112, 4113, 4119, 4120, 4121);
                for (int extra : extras) {
                    byte[] longer = Arrays.copyOf(body, body.length + extra);
                    for (int i = body.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt();
                    }
                    assertStatus(Status.MALFORMED, opcode, longer, "extended by " + extra);
                }
            }
        }
    }

    /**
     * A PUT or HANDBACK written in the old entry layout (no version: 4112 bytes an entry) must be refused whole,
     * never read with its data shifted by 8 bytes; nor may an entry count that only fits the old layout pass.
     */
    @ParameterizedTest
    @ValueSource(ints = {Opcode.PUT, Opcode.HANDBACK})
    void entriesWithoutAVersionAreMalformed(int opcode) {
        int oldEntryBytes = 8 + 4 + 4 + Frame.PAGE_BYTES;
        for (int count : new int[] {1, 2, 63, 64}) {
            byte[] body = new byte[Frame.VECTOR_PREFIX_BYTES + count * oldEntryBytes];
            body[Frame.VECTOR_COUNT_OFFSET] = (byte) (count >>> 8);
            body[Frame.VECTOR_COUNT_OFFSET + 1] = (byte) count;
            assertStatus(Status.MALFORMED, opcode, body, count + " entries of " + oldEntryBytes + " bytes");
        }
        // The body of 2 versioned entries, announcing 3: one short of its count.
        byte[] body = new byte[Frame.VECTOR_PREFIX_BYTES + 3 * Frame.PUT_ENTRY_BYTES - Frame.PUT_ENTRY_BYTES + 16];
        body[Frame.VECTOR_COUNT_OFFSET + 1] = 3;
        assertStatus(Status.MALFORMED, opcode, body, "3 entries announced in the room of 2 and a bit");
    }

    @Test
    void aFullPutOfVersionedEntriesIsTheLargestBodyAndOneByteMoreIsRefused() {
        byte[] full = TestPages.validBody(Opcode.PUT, Frame.MAX_PAGES_PER_FRAME, 5);
        assertEquals(Frame.MAX_BODY_BYTES, full.length);
        ByteBuf body = TestPages.exactlyBounded(full, 1);
        assertDoesNotThrow(() -> Bodies.checkRequest(header(Opcode.PUT, body.readableBytes()), body));
        assertStatus(Status.MALFORMED, Opcode.PUT, Arrays.copyOf(full, full.length + 1), "one byte past a full PUT");
    }

    @Test
    void pingBodiesUpToTheLimitPassAndLongerOnesAreTooLarge() {
        for (int length = 0; length <= Frame.MAX_PING_BYTES; length++) {
            ByteBuf body = TestPages.exactlyBounded(new byte[length], 1);
            assertDoesNotThrow(() -> Bodies.checkRequest(header(Opcode.PING, body.readableBytes()), body));
        }
        for (int length : new int[] {Frame.MAX_PING_BYTES + 1, 1000, Frame.MAX_BODY_BYTES}) {
            assertStatus(Status.TOO_LARGE, Opcode.PING, new byte[length], "of " + length + " bytes");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {Opcode.PUT, Opcode.GET, Opcode.FLUSH_PAGE, Opcode.FLUSH_OBJECT})
    void vectorCountAboveTheFrameLimitIsTooLargeWhateverTheLength(int opcode) {
        int entryBytes = switch (opcode) {
            case Opcode.PUT -> Frame.PUT_ENTRY_BYTES;
            case Opcode.FLUSH_OBJECT -> Frame.OBJECT_ENTRY_BYTES;
            default -> Frame.KEY_ENTRY_BYTES;
        };
        for (int count : new int[] {Frame.MAX_PAGES_PER_FRAME + 1, 1000, 0xFFFF}) {
            for (int length : new int[] {Frame.VECTOR_PREFIX_BYTES, Frame.VECTOR_PREFIX_BYTES + count * entryBytes}) {
                byte[] body = new byte[length];
                body[Frame.VECTOR_COUNT_OFFSET] = (byte) (count >>> 8);
                body[Frame.VECTOR_COUNT_OFFSET + 1] = (byte) count;
                assertStatus(Status.TOO_LARGE, opcode, body, count + " entries in " + length + " bytes");
            }
        }
    }

    @Test
    void helloAndAuthOfAnyOtherLengthAreMalformed() {
        for (int length : new int[] {0, 12, Frame.HELLO_BYTES - 1, Frame.HELLO_BYTES + 1, Frame.HELLO_BYTES + 256}) {
            assertStatus(Status.MALFORMED, Opcode.HELLO, new byte[length], "HELLO of " + length + " bytes");
        }
        for (int length : new int[] {0, Frame.AUTH_BYTES - 1, Frame.AUTH_BYTES + 1}) {
            assertStatus(Status.MALFORMED, Opcode.AUTH, new byte[length], "AUTH of " + length + " bytes");
        }
    }

    @Test
    void newPoolFlagsOtherThanZeroOrOneAreMalformed() {
        for (int at = 0; at < 2; at++) {
            for (int value : new int[] {2, 0x80, 0xFF}) {
                byte[] body = TestPages.validBody(Opcode.NEW_POOL, 0, 3);
                body[at] = (byte) value;
                assertStatus(Status.MALFORMED, Opcode.NEW_POOL, body, "flag byte " + at + " = " + value);
            }
        }
    }

    @Test
    void newPoolPageSizeIsLeftToTheServerToJudge() {
        byte[] body = TestPages.validBody(Opcode.NEW_POOL, 0, 3);
        body[2] = 0x20;
        body[3] = 0;
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        assertDoesNotThrow(() -> Bodies.checkRequest(header(Opcode.NEW_POOL, body.length), buf));
        assertEquals(0x2000, Bodies.newPoolPageSize(buf));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 12, 0xFF})
    void unknownOpcodeIsUnknownOpcode(int opcode) {
        assertStatus(Status.UNKNOWN_OPCODE, opcode, new byte[0], "");
        assertStatus(Status.UNKNOWN_OPCODE, opcode, new byte[12], "");
    }

    @Test
    void vectorCountReadsAsUnsigned() {
        byte[] body = new byte[Frame.VECTOR_PREFIX_BYTES];
        body[Frame.VECTOR_COUNT_OFFSET] = (byte) 0x80;
        ByteBuf buf = Unpooled.wrappedBuffer(body);
        assertEquals(0x8000, Bodies.count(buf));
        assertStatus(Status.TOO_LARGE, Opcode.GET, body, "count 0x8000");
    }
}
