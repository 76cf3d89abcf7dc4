package dev.pagepool.protocol;

import static dev.pagepool.protocol.DecoderHarness.encode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.DecoderHarness.Delivered;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every {@link FrameWriter} method, decoded by {@link FrameDecoder} and read by {@link Bodies}, gives back its fields. */
class FrameRoundTripTest {
    private static final long REQUEST_ID = 0xFEDC_BA98_7654_3210L; // above Long.MAX_VALUE as a u64

    /** Encodes one frame, decodes it in a single chunk, and returns the one frame that came out. */
    private static Delivered roundTrip(Consumer<ByteBuf> writer) {
        DecoderHarness harness = new DecoderHarness();
        harness.feed(encode(writer));
        Delivered frame = harness.onlyFrame();
        harness.closeAndCheckReleased();
        return frame;
    }

    private static Delivered checkedRequest(Consumer<ByteBuf> writer) {
        Delivered frame = roundTrip(writer);
        assertFalse(frame.header().isResponse(), "requests do not carry FLAG_RESPONSE");
        assertEquals(Status.OK, frame.header().status());
        assertDoesNotThrow(() -> Bodies.checkRequest(frame.header(), frame.bodyBuf()));
        return frame;
    }

    private static Delivered reply(Consumer<ByteBuf> writer, int opcode) {
        Delivered frame = roundTrip(writer);
        assertTrue(frame.header().isResponse(), "replies carry FLAG_RESPONSE");
        assertEquals(opcode, frame.header().opcode(), "a reply carries the opcode of its request");
        assertEquals(REQUEST_ID, frame.header().requestId(), "a reply echoes the request id");
        return frame;
    }

    @Test
    void helloRoundTripsVersionClientIdAndNonceAndCarriesNoToken() {
        byte[] nonce = TestPages.page(3);
        byte[] exact = java.util.Arrays.copyOf(nonce, Frame.NONCE_BYTES);
        Delivered frame = checkedRequest(out -> FrameWriter.hello(out, REQUEST_ID, -42L, exact));
        ByteBuf body = frame.bodyBuf();
        assertEquals(Opcode.HELLO, frame.header().opcode());
        assertEquals(REQUEST_ID, frame.header().requestId());
        assertEquals(Frame.HELLO_BYTES, frame.header().bodyLength());
        assertEquals(Frame.VERSION, Bodies.helloVersion(body));
        assertEquals(-42L, Bodies.helloClientId(body));
        assertArrayEquals(exact, Bodies.helloNonce(body));
    }

    @Test
    void helloWriterRefusesANonceOfTheWrongSize() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class, () -> FrameWriter.hello(out, 1, 1, new byte[Frame.NONCE_BYTES - 1]));
        assertEquals(0, out.writerIndex(), "a refused frame writes nothing");
    }

    @Test
    void authRoundTripsTheProof() {
        byte[] proof = java.util.Arrays.copyOf(TestPages.page(9), Frame.PROOF_BYTES);
        OwnerKey key = new OwnerKey(0x0102030405060708L, -2);
        Delivered frame = checkedRequest(out -> FrameWriter.auth(out, REQUEST_ID, proof, key));
        assertEquals(Opcode.AUTH, frame.header().opcode());
        assertArrayEquals(proof, Bodies.authProof(frame.bodyBuf()));
        assertEquals(key, Bodies.authOwnerKey(frame.bodyBuf()));
        Delivered ok = reply(out -> FrameWriter.authReply(out, REQUEST_ID), Opcode.AUTH);
        assertEquals(0, ok.header().bodyLength());
    }

    @Test
    void helloReplyRoundTripsLimitsNonceProofAndNodeName() {
        String name = "donor-\u00fc-7410";
        byte[] nonce = java.util.Arrays.copyOf(TestPages.page(4), Frame.NONCE_BYTES);
        byte[] proof = java.util.Arrays.copyOf(TestPages.page(5), Frame.PROOF_BYTES);
        Delivered frame = reply(out -> FrameWriter.helloReply(out, REQUEST_ID, 256, 123_456, nonce, proof, name), Opcode.HELLO);
        ByteBuf body = frame.bodyBuf();
        assertEquals(Frame.VERSION, body.getUnsignedShort(0));
        assertEquals(256, body.getUnsignedShort(2));
        assertEquals(123_456L, body.getUnsignedInt(4));
        byte[] readNonce = new byte[Frame.NONCE_BYTES];
        body.getBytes(Frame.HELLO_REPLY_NONCE_OFFSET, readNonce);
        assertArrayEquals(nonce, readNonce);
        byte[] readProof = new byte[Frame.PROOF_BYTES];
        body.getBytes(Frame.HELLO_REPLY_PROOF_OFFSET, readProof);
        assertArrayEquals(proof, readProof);
        int nameLength = body.getUnsignedShort(Frame.HELLO_REPLY_NAME_LENGTH_OFFSET);
        assertEquals(Frame.HELLO_REPLY_FIXED_BYTES + nameLength, body.readableBytes());
        assertEquals(name, body.toString(Frame.HELLO_REPLY_FIXED_BYTES, nameLength, StandardCharsets.UTF_8));
        assertEquals(null, Bodies.helloReplyDonorId(body), "a reply without an id names none");
    }

    @Test
    void helloReplyCarriesTheDonorsIdAfterItsName() {
        java.util.UUID id = new java.util.UUID(0x0123456789abcdefL, 0xfedcba9876543210L);
        Delivered frame = reply(out -> FrameWriter.helloReply(out, REQUEST_ID, 256, 123_456, new byte[Frame.NONCE_BYTES],
            new byte[Frame.PROOF_BYTES], "d-1", id), Opcode.HELLO);
        ByteBuf body = frame.bodyBuf();
        assertEquals(Frame.HELLO_REPLY_FIXED_BYTES + 3 + Frame.HELLO_REPLY_DONOR_ID_BYTES, body.readableBytes());
        assertEquals("d-1", Bodies.helloReplyName(body), "the name ends where its length says, before the id");
        assertEquals(id, Bodies.helloReplyDonorId(body));
    }

    @Test
    void helloReplyWriterRefusesANodeNameThatDoesNotFitItsLengthField() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class,
            () -> FrameWriter.helloReply(out, 1, 256, Frame.MAX_BODY_BYTES, new byte[Frame.NONCE_BYTES],
                new byte[Frame.PROOF_BYTES], "n".repeat(0x10000)));
        assertEquals(0, out.writerIndex(), "a refused reply writes nothing");
    }

    @Test
    void newPoolRoundTripsEveryPoolKind() {
        UUID secret = UUID.randomUUID();
        List<PoolSpec> specs = List.of(
            PoolSpec.privatePool(true), PoolSpec.privatePool(false),
            PoolSpec.sharedPool(true, secret), PoolSpec.sharedPool(false, secret));
        for (PoolSpec spec : specs) {
            Delivered frame = checkedRequest(out -> FrameWriter.newPool(out, REQUEST_ID, spec));
            assertEquals(Opcode.NEW_POOL, frame.header().opcode());
            assertEquals(spec, Bodies.newPoolSpec(frame.bodyBuf()), spec.kind());
            assertEquals(Frame.PAGE_BYTES, Bodies.newPoolPageSize(frame.bodyBuf()));
        }
    }

    @Test
    void newPoolReplyRoundTripsPoolId() {
        Delivered frame = reply(out -> FrameWriter.newPoolReply(out, REQUEST_ID, 0xFFFF_FFF0), Opcode.NEW_POOL);
        assertEquals(4, frame.header().bodyLength());
        assertEquals(0xFFFF_FFF0, frame.bodyBuf().getInt(0));
        assertEquals(0xFFFF_FFF0, assertDoesNotThrow(() -> Bodies.newPoolReplyId(frame.bodyBuf())));
    }

    @Test
    void destroyPoolAndItsReplyRoundTrip() {
        Delivered request = checkedRequest(out -> FrameWriter.destroyPool(out, REQUEST_ID, 99));
        assertEquals(Opcode.DESTROY_POOL, request.header().opcode());
        assertEquals(99, Bodies.destroyPoolId(request.bodyBuf()));

        Delivered reply = reply(out -> FrameWriter.destroyPoolReply(out, REQUEST_ID, 1L << 40), Opcode.DESTROY_POOL);
        assertEquals(8, reply.header().bodyLength());
        assertEquals(1L << 40, reply.bodyBuf().getLong(0));
        assertEquals(1L << 40, assertDoesNotThrow(() -> Bodies.destroyPoolReplyRemoved(reply.bodyBuf())));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, Frame.MAX_PAGES_PER_FRAME})
    void putVectorRoundTripsHandlesCrcsAndData(int pages) {
        byte[][] data = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            data[i] = TestPages.page(1000 + i);
        }
        // Half the entries come from a ByteBuf at a non-zero index, half from a byte[] at an offset.
        ByteBuf source = Unpooled.buffer(100 + Frame.PAGE_BYTES, 100 + Frame.PAGE_BYTES);
        byte[] array = new byte[7 + Frame.PAGE_BYTES];
        Delivered frame = checkedRequest(out -> {
            FrameWriter.vector(out, Opcode.PUT, 0, REQUEST_ID, 31, pages);
            for (int i = 0; i < pages; i++) {
                if (i % 2 == 0) {
                    source.setBytes(100, data[i]);
                    FrameWriter.putEntry(out, -1L - i, i * 3, TestPages.crc32c(data[i]), version(i), source, 100);
                } else {
                    System.arraycopy(data[i], 0, array, 7, Frame.PAGE_BYTES);
                    FrameWriter.putEntry(out, -1L - i, i * 3, TestPages.crc32c(data[i]), version(i), array, 7);
                }
            }
        });
        assertEquals(Opcode.PUT, frame.header().opcode());
        assertEquals(Frame.putBodyBytes(pages), frame.header().bodyLength());
        ByteBuf body = frame.bodyBuf();
        assertEquals(31, Bodies.pool(body));
        assertEquals(pages, Bodies.count(body));
        PageChecksum checksum = new PageChecksum();
        for (int i = 0; i < pages; i++) {
            assertEquals(-1L - i, Bodies.putObject(body, i));
            assertEquals(i * 3, Bodies.putIndex(body, i));
            assertEquals(TestPages.crc32c(data[i]), Bodies.putCrc(body, i));
            assertEquals(version(i), Bodies.putVersion(body, i), "version of page " + i);
            byte[] read = new byte[Frame.PAGE_BYTES];
            body.getBytes(Bodies.putDataIndex(body, i), read);
            assertArrayEquals(data[i], read, "page " + i);
            assertEquals(Bodies.putCrc(body, i), checksum.of(body, Bodies.putDataIndex(body, i), Frame.PAGE_BYTES));
        }
    }

    /** Versions are opaque u64s: the extremes and a sign-bit pattern must come back bit for bit. */
    private static long version(int i) {
        return switch (i % 4) {
            case 0 -> 0L;
            case 1 -> -1L;
            case 2 -> Long.MIN_VALUE + i;
            default -> 0x0123_4567_89AB_CDEFL * i;
        };
    }

    @Test
    void putEntryLayoutIsObjectIndexCrcVersionThenData() {
        byte[] page = TestPages.page(9);
        ByteBuf out = Unpooled.buffer();
        FrameWriter.putEntry(out, 0x1111_2222_3333_4444L, 0x5566_7788, 0x99AA_BBCC, 0xDDEE_FF00_1122_3344L, page, 0);
        assertEquals(Frame.PUT_ENTRY_BYTES, out.readableBytes());
        assertEquals(4120, Frame.PUT_ENTRY_BYTES);
        assertEquals(0x1111_2222_3333_4444L, out.getLong(Frame.PUT_ENTRY_OBJECT_OFFSET));
        assertEquals(0x5566_7788, out.getInt(Frame.PUT_ENTRY_INDEX_OFFSET));
        assertEquals(0x99AA_BBCC, out.getInt(Frame.PUT_ENTRY_CRC_OFFSET));
        assertEquals(0xDDEE_FF00_1122_3344L, out.getLong(Frame.PUT_ENTRY_VERSION_OFFSET));
        byte[] read = new byte[Frame.PAGE_BYTES];
        out.getBytes(Frame.PUT_ENTRY_DATA_OFFSET, read);
        assertArrayEquals(page, read);
        assertEquals(Frame.VECTOR_PREFIX_BYTES + Frame.MAX_PAGES_PER_FRAME * 4120, Frame.MAX_BODY_BYTES);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 17, Frame.MAX_PAGES_PER_FRAME})
    void getAndFlushPageVectorsRoundTripKeys(int count) {
        for (int opcode : new int[] {Opcode.GET, Opcode.FLUSH_PAGE}) {
            int flags = opcode == Opcode.GET ? Frame.FLAG_EXCLUSIVE : 0;
            Delivered frame = checkedRequest(out -> {
                FrameWriter.vector(out, opcode, flags, REQUEST_ID, -5, count);
                for (int i = 0; i < count; i++) {
                    FrameWriter.keyEntry(out, Long.MIN_VALUE + i, -i);
                }
            });
            assertEquals(opcode, frame.header().opcode());
            assertEquals(flags, frame.header().flags());
            assertEquals(opcode == Opcode.GET, frame.header().hasFlag(Frame.FLAG_EXCLUSIVE));
            assertEquals(Frame.keyBodyBytes(count), frame.header().bodyLength());
            ByteBuf body = frame.bodyBuf();
            assertEquals(-5, Bodies.pool(body));
            assertEquals(count, Bodies.count(body));
            for (int i = 0; i < count; i++) {
                assertEquals(Long.MIN_VALUE + i, Bodies.keyObject(body, i));
                assertEquals(-i, Bodies.keyIndex(body, i));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, Frame.MAX_PAGES_PER_FRAME})
    void flushObjectVectorAndItsReplyRoundTrip(int count) {
        Delivered frame = checkedRequest(out -> {
            FrameWriter.vector(out, Opcode.FLUSH_OBJECT, 0, REQUEST_ID, 8, count);
            for (int i = 0; i < count; i++) {
                FrameWriter.objectEntry(out, 1L << (i % 64));
            }
        });
        assertEquals(Frame.flushObjectBodyBytes(count), frame.header().bodyLength());
        ByteBuf body = frame.bodyBuf();
        assertEquals(8, Bodies.pool(body));
        assertEquals(count, Bodies.count(body));
        for (int i = 0; i < count; i++) {
            assertEquals(1L << (i % 64), Bodies.flushObject(body, i));
        }

        int[] removed = new int[count];
        for (int i = 0; i < count; i++) {
            removed[i] = i * 1000;
        }
        Delivered reply = reply(out -> FrameWriter.flushObjectReply(out, REQUEST_ID, removed, count), Opcode.FLUSH_OBJECT);
        ByteBuf replyBody = reply.bodyBuf();
        assertEquals(Frame.STATUS_VECTOR_PREFIX_BYTES + 4 * count, replyBody.readableBytes());
        assertEquals(count, Bodies.replyCount(replyBody));
        for (int i = 0; i < count; i++) {
            assertEquals(removed[i], replyBody.getInt(Frame.STATUS_VECTOR_PREFIX_BYTES + 4 * i));
        }
    }

    @Test
    void vectorWriterRefusesCountsOutsideTheFrameLimitAndNonVectorOpcodes() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class,
            () -> FrameWriter.vector(out, Opcode.PUT, 0, 1, 1, Frame.MAX_PAGES_PER_FRAME + 1));
        assertThrows(IllegalArgumentException.class, () -> FrameWriter.vector(out, Opcode.GET, 0, 1, 1, -1));
        assertThrows(IllegalArgumentException.class, () -> FrameWriter.vector(out, Opcode.STATS, 0, 1, 1, 0));
        assertEquals(0, out.writerIndex(), "a refused vector writes nothing");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, Frame.MAX_PAGES_PER_FRAME})
    void statusVectorRepliesRoundTripOneStatusPerPage(int count) {
        for (int opcode : new int[] {Opcode.PUT, Opcode.FLUSH_PAGE}) {
            Delivered frame = reply(out -> {
                int start = FrameWriter.statusVectorReply(out, opcode, REQUEST_ID, count);
                for (int i = 0; i < count; i++) {
                    out.writeByte(i % 4);
                }
                FrameWriter.patchBodyLength(out, start);
            }, opcode);
            assertEquals(Status.OK, frame.header().status());
            assertEquals(Frame.statusVectorBytes(count), frame.header().bodyLength());
            ByteBuf body = frame.bodyBuf();
            assertEquals(count, Bodies.replyCount(body));
            for (int i = 0; i < count; i++) {
                assertEquals(i % 4, Bodies.replyStatus(body, i));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, Frame.MAX_PAGES_PER_FRAME})
    void getReplyRoundTripsStatusesAndHitsInOrder(int count) {
        // Every third entry misses; the hits follow the statuses in entry order, each as crc then data.
        List<byte[]> hits = new ArrayList<>();
        Delivered frame = reply(out -> {
            int start = FrameWriter.statusVectorReply(out, Opcode.GET, REQUEST_ID, count);
            for (int i = 0; i < count; i++) {
                out.writeByte(i % 3 == 2 ? Status.PAGE_MISS : Status.PAGE_OK);
            }
            for (int i = 0; i < count; i++) {
                if (i % 3 != 2) {
                    byte[] page = TestPages.page(i);
                    hits.add(page);
                    out.writeInt(TestPages.crc32c(page));
                    out.writeBytes(page);
                }
            }
            FrameWriter.patchBodyLength(out, start);
        }, Opcode.GET);
        assertEquals(Frame.getReplyBytes(count, hits.size()), frame.header().bodyLength());
        ByteBuf body = frame.bodyBuf();
        assertEquals(count, Bodies.replyCount(body));
        PageChecksum checksum = new PageChecksum();
        int hit = 0;
        for (int i = 0; i < count; i++) {
            int status = Bodies.replyStatus(body, i);
            assertEquals(i % 3 == 2 ? Status.PAGE_MISS : Status.PAGE_OK, status);
            if (status == Status.PAGE_OK) {
                int at = Bodies.getHitIndex(body, count, hit);
                byte[] data = new byte[Frame.PAGE_BYTES];
                body.getBytes(at + 4, data);
                assertArrayEquals(hits.get(hit), data, "hit " + hit);
                assertEquals(body.getInt(at), checksum.of(body, at + 4, Frame.PAGE_BYTES), "crc of hit " + hit);
                hit++;
            }
        }
        assertEquals(hits.size(), hit);
    }

    @Test
    void statsRequestAndReplyRoundTripCounters() {
        Delivered request = checkedRequest(out -> FrameWriter.stats(out, REQUEST_ID));
        assertEquals(Opcode.STATS, request.header().opcode());
        assertEquals(0, request.header().bodyLength());

        String[] names = {"puts", "gets", "x".repeat(255), ""};
        long[] values = {1, -1, Long.MAX_VALUE, Long.MIN_VALUE};
        Delivered reply = reply(out -> FrameWriter.statsReply(out, REQUEST_ID, names, values), Opcode.STATS);
        ByteBuf body = reply.bodyBuf();
        assertEquals(names.length, body.readUnsignedShort());
        for (int i = 0; i < names.length; i++) {
            int length = body.readUnsignedByte();
            assertEquals(names[i], body.readCharSequence(length, StandardCharsets.US_ASCII).toString());
            assertEquals(values[i], body.readLong());
        }
        assertFalse(body.isReadable(), "the body length covers exactly the counters");
        body.readerIndex(0);
        java.util.Map<String, Long> decoded = assertDoesNotThrow(() -> Bodies.statsReply(body));
        assertEquals(List.of(names), List.copyOf(decoded.keySet()));
        for (int i = 0; i < names.length; i++) {
            assertEquals(values[i], decoded.get(names[i]));
        }
    }

    @Test
    void replyDecodersRefuseBodiesThatDoNotHoldTheirLayout() {
        ByteBuf stats = Unpooled.buffer();
        stats.writeShort(2).writeByte(4).writeBytes("puts".getBytes(StandardCharsets.US_ASCII)).writeLong(7);
        assertThrows(ProtocolException.class, () -> Bodies.statsReply(stats), "a second counter is announced");
        ByteBuf trailing = Unpooled.buffer().writeShort(0).writeByte(1);
        assertThrows(ProtocolException.class, () -> Bodies.statsReply(trailing));
        assertThrows(ProtocolException.class, () -> Bodies.newPoolReplyId(Unpooled.buffer().writeShort(1)));
        assertThrows(ProtocolException.class, () -> Bodies.destroyPoolReplyRemoved(Unpooled.buffer().writeInt(1)));
        assertThrows(ProtocolException.class,
            () -> Bodies.flushObjectReplyRemoved(Unpooled.buffer().writeShort(2).writeShort(0).writeInt(1)));
        assertEquals("", Bodies.helloReplyName(Unpooled.buffer().writeShort(1)));
    }

    @Test
    void statsReplyWriterRefusesNamesThatDoNotFitTheirLengthByte() {
        ByteBuf out = Unpooled.buffer();
        assertThrows(IllegalArgumentException.class,
            () -> FrameWriter.statsReply(out, 1, new String[] {"y".repeat(256)}, new long[] {1}));
    }

    @Test
    void pingAndPongRoundTripThePayload() {
        Delivered ping = checkedRequest(out -> FrameWriter.ping(out, REQUEST_ID, 0x0123_4567_89AB_CDEFL));
        assertEquals(Opcode.PING, ping.header().opcode());
        assertEquals(8, ping.header().bodyLength());
        assertEquals(0x0123_4567_89AB_CDEFL, ping.bodyBuf().getLong(0));

        ByteBuf payload = Unpooled.buffer();
        payload.writeZero(3);
        payload.writeBytes(ping.bodyBytes());
        payload.readerIndex(3);
        Delivered pong = reply(out -> FrameWriter.pong(out, REQUEST_ID, payload), Opcode.PING);
        assertArrayEquals(ping.bodyBytes(), pong.bodyBytes(), "pong echoes the ping body");
        assertEquals(3, payload.readerIndex(), "pong leaves the echoed body's indexes alone");
    }

    @Test
    void errorReplyCarriesStatusInHeaderAndMessageInBody() {
        for (int status = Status.UNAUTHENTICATED; status <= Status.INVALID; status++) {
            int s = status;
            String message = "no pool 7 for this client \u2013 " + Status.requestName(s);
            Delivered frame = reply(out -> FrameWriter.error(out, Opcode.PUT, REQUEST_ID, s, message), Opcode.PUT);
            assertEquals(s, frame.header().status());
            assertEquals(message, Bodies.errorMessage(frame.bodyBuf()));
        }
    }

    @Test
    void errorMessageLongerThanTheMaximumIsTruncated() {
        String message = "a".repeat(Frame.MAX_ERROR_MESSAGE_BYTES + 500);
        Delivered frame = reply(out -> FrameWriter.error(out, Opcode.GET, REQUEST_ID, Status.INTERNAL, message), Opcode.GET);
        assertEquals(2 + Frame.MAX_ERROR_MESSAGE_BYTES, frame.header().bodyLength());
        assertEquals(message.substring(0, Frame.MAX_ERROR_MESSAGE_BYTES), Bodies.errorMessage(frame.bodyBuf()));
    }

    @Test
    void errorMessageIsTruncatedOnACharacterBoundaryAndStaysValidUtf8() {
        // Two ASCII bytes, then 3-byte characters: the limit falls inside the character at bytes 1022..1024.
        String message = "xy" + "\u20ac".repeat(Frame.MAX_ERROR_MESSAGE_BYTES);
        Delivered frame = reply(out -> FrameWriter.error(out, Opcode.GET, REQUEST_ID, Status.INTERNAL, message), Opcode.GET);
        String read = Bodies.errorMessage(frame.bodyBuf());
        assertTrue(frame.header().bodyLength() <= 2 + Frame.MAX_ERROR_MESSAGE_BYTES);
        assertTrue(message.startsWith(read), "the message is cut, not mangled: " + read.substring(read.length() - 3));
        assertEquals(2 + (Frame.MAX_ERROR_MESSAGE_BYTES - 2) / 3, read.length());
        assertEquals(2 + 2 + 3 * ((Frame.MAX_ERROR_MESSAGE_BYTES - 2) / 3), frame.header().bodyLength());
    }

    @Test
    void errorMessageOfATooShortBodyIsEmpty() {
        assertEquals("", Bodies.errorMessage(Unpooled.EMPTY_BUFFER));
        assertEquals("", Bodies.errorMessage(Unpooled.wrappedBuffer(new byte[] {0})));
        // A length above what the body holds reads what is there.
        assertEquals("ab", Bodies.errorMessage(Unpooled.wrappedBuffer(new byte[] {0, 9, 'a', 'b'})));
    }

    @Test
    void writersReturnTheirHeaderStartAndPatchBodyLengthWorksAfterEarlierFrames() {
        ByteBuf out = Unpooled.buffer();
        int first = FrameWriter.ping(out, 1, 2);
        int second = FrameWriter.statusVectorReply(out, Opcode.PUT, 3, 2);
        out.writeByte(Status.PAGE_OK).writeByte(Status.PAGE_REJECTED);
        FrameWriter.patchBodyLength(out, second);
        assertEquals(0, first);
        assertEquals(Frame.HEADER_BYTES + 8, second);
        assertEquals(Frame.statusVectorBytes(2), out.getInt(second + Frame.BODY_LENGTH_OFFSET));
        assertEquals(8, out.getInt(first + Frame.BODY_LENGTH_OFFSET), "patching one frame leaves the others alone");
    }

    @Test
    void headerFieldsSitAtTheDocumentedOffsets() {
        byte[] bytes = encode(out -> FrameWriter.header(out, Opcode.GET, 0xABCD, 0x1122_3344_5566_7788L, 0x0102_0304, 0xBEEF));
        ByteBuf h = Unpooled.wrappedBuffer(bytes);
        assertEquals(Frame.HEADER_BYTES, bytes.length);
        assertEquals(0x70706F6C, h.getInt(Frame.MAGIC_OFFSET));
        assertEquals("ppol", h.toString(0, 4, StandardCharsets.US_ASCII));
        assertEquals(Frame.VERSION, h.getUnsignedByte(Frame.VERSION_OFFSET));
        assertEquals(Opcode.GET, h.getUnsignedByte(Frame.OPCODE_OFFSET));
        assertEquals(0xABCD, h.getUnsignedShort(Frame.FLAGS_OFFSET));
        assertEquals(0x1122_3344_5566_7788L, h.getLong(Frame.REQUEST_ID_OFFSET));
        assertEquals(0x0102_0304, h.getInt(Frame.BODY_LENGTH_OFFSET));
        assertEquals(0xBEEF, h.getUnsignedShort(Frame.STATUS_OFFSET));
        assertEquals(0, h.getUnsignedShort(22), "reserved");
        assertEquals((byte) 0x70, bytes[0], "big-endian");
    }

    @Test
    void largestFramesFitTheBodyLimit() {
        assertEquals(Frame.putBodyBytes(Frame.MAX_PAGES_PER_FRAME), Frame.MAX_BODY_BYTES);
        assertTrue(Frame.getReplyBytes(Frame.MAX_PAGES_PER_FRAME, Frame.MAX_PAGES_PER_FRAME) <= Frame.MAX_BODY_BYTES);
        assertTrue(2 + Frame.MAX_ERROR_MESSAGE_BYTES <= Frame.MAX_BODY_BYTES);
    }

    // ---- HANDBACK: donor to client, and the client's answer ----

    @ParameterizedTest
    @ValueSource(ints = {0, 1, Frame.MAX_HANDBACK_PAGES})
    void handbackRequestCarriesPagesInThePutEntryLayout(int pages) {
        byte[][] data = new byte[pages][];
        for (int i = 0; i < pages; i++) {
            data[i] = TestPages.page(5000 + i);
        }
        Delivered frame = checkedRequest(out -> {
            FrameWriter.handback(out, REQUEST_ID, 77, pages);
            for (int i = 0; i < pages; i++) {
                FrameWriter.putEntry(out, 40L + i, i, TestPages.crc32c(data[i]), version(i), data[i], 0);
            }
        });
        assertEquals(Opcode.HANDBACK, frame.header().opcode());
        assertEquals(REQUEST_ID, frame.header().requestId());
        assertEquals(Frame.handbackBodyBytes(pages), frame.header().bodyLength());
        ByteBuf body = frame.bodyBuf();
        assertEquals(77, Bodies.pool(body));
        assertEquals(pages, Bodies.count(body));
        for (int i = 0; i < pages; i++) {
            assertEquals(40L + i, Bodies.putObject(body, i));
            assertEquals(i, Bodies.putIndex(body, i));
            assertEquals(TestPages.crc32c(data[i]), Bodies.putCrc(body, i));
            assertEquals(version(i), Bodies.putVersion(body, i), "a handed-back page carries its version");
            byte[] read = new byte[Frame.PAGE_BYTES];
            body.getBytes(Bodies.putDataIndex(body, i), read);
            assertArrayEquals(data[i], read);
        }
    }

    @Test
    void handbackWriterAndCheckRefuseMoreThanTheHandbackLimit() {
        assertThrows(IllegalArgumentException.class,
            () -> FrameWriter.handback(Unpooled.buffer(), 1, 1, Frame.MAX_HANDBACK_PAGES + 1));
        ByteBuf body = Unpooled.buffer();
        body.writeInt(1);
        body.writeShort(Frame.MAX_HANDBACK_PAGES + 1);
        body.writeShort(0);
        body.writeZero((Frame.MAX_HANDBACK_PAGES + 1) * Frame.PUT_ENTRY_BYTES);
        ProtocolException e = assertThrows(ProtocolException.class,
            () -> Bodies.checkRequest(new FrameHeader(Opcode.HANDBACK, 0, 1, body.readableBytes(), 0), body));
        assertEquals(Status.TOO_LARGE, e.status());
    }

    @Test
    void handbackReplyIsAStatusVectorThatTheDonorChecksAgainstTheRequestCount() {
        byte[] statuses = {Status.PAGE_OK, Status.PAGE_REJECTED, Status.PAGE_OK};
        Delivered frame = reply(out -> FrameWriter.handbackReply(out, REQUEST_ID, statuses, 3), Opcode.HANDBACK);
        ByteBuf body = frame.bodyBuf();
        assertDoesNotThrow(() -> Bodies.checkStatusVector(body, 3));
        assertEquals(3, Bodies.replyCount(body));
        for (int i = 0; i < 3; i++) {
            assertEquals(statuses[i], Bodies.replyStatus(body, i));
        }
        assertEquals(Status.MALFORMED, assertThrows(ProtocolException.class, () -> Bodies.checkStatusVector(body, 4)).status());
        assertEquals("HANDBACK", Opcode.name(Opcode.HANDBACK));
    }
}
