package dev.pagepool.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reads and checks frame bodies in place. Accessors take the body buffer and an entry number and read at
 * absolute indexes (relative to the body's reader index), so reading a vector allocates nothing.
 * {@link #checkRequest} must pass before any accessor is used on a request: it proves that every entry the
 * count promises is really there, which is what lets the accessors skip bounds checks of their own.
 */
public final class Bodies {
    private Bodies() {
    }

    /** Verifies that a request body has exactly the layout its opcode requires. */
    public static void checkRequest(FrameHeader header, ByteBuf body) throws ProtocolException {
        int length = body.readableBytes();
        switch (header.opcode()) {
            case Opcode.HELLO -> need(length == Frame.HELLO_BYTES, "HELLO body must be " + Frame.HELLO_BYTES
                + " bytes (version " + Frame.VERSION + ": version, reserved, client id, nonce), got " + length);
            case Opcode.AUTH -> need(length == Frame.AUTH_BYTES, "AUTH body must be " + Frame.AUTH_BYTES
                + " bytes (client proof, owner key), got " + length);
            case Opcode.NEW_POOL -> {
                need(length == Frame.NEW_POOL_BYTES, "NEW_POOL body must be " + Frame.NEW_POOL_BYTES + " bytes");
                int persistent = body.getUnsignedByte(body.readerIndex());
                int shared = body.getUnsignedByte(body.readerIndex() + 1);
                need(persistent <= 1 && shared <= 1, "NEW_POOL flags must be 0 or 1");
            }
            case Opcode.DESTROY_POOL -> need(length == Frame.DESTROY_POOL_BYTES, "DESTROY_POOL body must be 4 bytes");
            case Opcode.PUT -> checkVector(body, Frame.PUT_ENTRY_BYTES);
            case Opcode.GET, Opcode.FLUSH_PAGE -> checkVector(body, Frame.KEY_ENTRY_BYTES);
            case Opcode.FLUSH_OBJECT -> checkVector(body, Frame.OBJECT_ENTRY_BYTES);
            case Opcode.HANDBACK -> {
                checkVector(body, Frame.PUT_ENTRY_BYTES);
                if (count(body) > Frame.MAX_HANDBACK_PAGES) {
                    throw new ProtocolException(Status.TOO_LARGE, false,
                        count(body) + " pages in one HANDBACK; at most " + Frame.MAX_HANDBACK_PAGES);
                }
            }
            case Opcode.STATS -> need(length == 0, "STATS takes no body");
            case Opcode.PING -> {
                if (length > Frame.MAX_PING_BYTES) {
                    throw new ProtocolException(Status.TOO_LARGE, false, "PING body longer than " + Frame.MAX_PING_BYTES + " bytes");
                }
            }
            default -> throw new ProtocolException(Status.UNKNOWN_OPCODE, false, "unknown opcode " + header.opcode());
        }
    }

    private static void checkVector(ByteBuf body, int entryBytes) throws ProtocolException {
        int length = body.readableBytes();
        need(length >= Frame.VECTOR_PREFIX_BYTES, "vector body shorter than its " + Frame.VECTOR_PREFIX_BYTES + "-byte prefix");
        int count = count(body);
        if (count > Frame.MAX_PAGES_PER_FRAME) {
            throw new ProtocolException(Status.TOO_LARGE, false,
                count + " entries in one frame; at most " + Frame.MAX_PAGES_PER_FRAME);
        }
        need((long) length == Frame.VECTOR_PREFIX_BYTES + (long) count * entryBytes,
            "vector of " + count + " entries must be " + (Frame.VECTOR_PREFIX_BYTES + (long) count * entryBytes)
                + " bytes, got " + length);
    }

    private static void need(boolean condition, String message) throws ProtocolException {
        if (!condition) {
            throw new ProtocolException(Status.MALFORMED, false, message);
        }
    }

    // ---- vectored requests ----

    public static int pool(ByteBuf body) {
        return body.getInt(body.readerIndex() + Frame.VECTOR_POOL_OFFSET);
    }

    public static int count(ByteBuf body) {
        return body.getUnsignedShort(body.readerIndex() + Frame.VECTOR_COUNT_OFFSET);
    }

    private static int putEntry(ByteBuf body, int i) {
        return body.readerIndex() + Frame.VECTOR_PREFIX_BYTES + i * Frame.PUT_ENTRY_BYTES;
    }

    public static long putObject(ByteBuf body, int i) {
        return body.getLong(putEntry(body, i) + Frame.PUT_ENTRY_OBJECT_OFFSET);
    }

    public static int putIndex(ByteBuf body, int i) {
        return body.getInt(putEntry(body, i) + Frame.PUT_ENTRY_INDEX_OFFSET);
    }

    public static int putCrc(ByteBuf body, int i) {
        return body.getInt(putEntry(body, i) + Frame.PUT_ENTRY_CRC_OFFSET);
    }

    /** The client's opaque version of entry {@code i} (PUT: of this write; HANDBACK: of the last put the donor stored). */
    public static long putVersion(ByteBuf body, int i) {
        return body.getLong(putEntry(body, i) + Frame.PUT_ENTRY_VERSION_OFFSET);
    }

    /** Absolute index of entry {@code i}'s 4096 data bytes. */
    public static int putDataIndex(ByteBuf body, int i) {
        return putEntry(body, i) + Frame.PUT_ENTRY_DATA_OFFSET;
    }

    public static long keyObject(ByteBuf body, int i) {
        return body.getLong(body.readerIndex() + Frame.VECTOR_PREFIX_BYTES + i * Frame.KEY_ENTRY_BYTES);
    }

    public static int keyIndex(ByteBuf body, int i) {
        return body.getInt(body.readerIndex() + Frame.VECTOR_PREFIX_BYTES + i * Frame.KEY_ENTRY_BYTES + 8);
    }

    public static long flushObject(ByteBuf body, int i) {
        return body.getLong(body.readerIndex() + Frame.VECTOR_PREFIX_BYTES + i * Frame.OBJECT_ENTRY_BYTES);
    }

    // ---- HELLO, NEW_POOL, DESTROY_POOL ----

    public static long helloClientId(ByteBuf body) {
        return body.getLong(body.readerIndex() + Frame.HELLO_CLIENT_ID_OFFSET);
    }

    public static int helloVersion(ByteBuf body) {
        return body.getUnsignedShort(body.readerIndex());
    }

    public static int helloFlags(ByteBuf body) {
        return body.getUnsignedShort(body.readerIndex() + Frame.HELLO_FLAGS_OFFSET);
    }

    /** The client nonce of a checked HELLO body. */
    public static byte[] helloNonce(ByteBuf body) {
        byte[] nonce = new byte[Frame.NONCE_BYTES];
        body.getBytes(body.readerIndex() + Frame.HELLO_NONCE_OFFSET, nonce);
        return nonce;
    }

    /** The client proof of a checked AUTH body. */
    public static byte[] authProof(ByteBuf body) {
        byte[] proof = new byte[Frame.PROOF_BYTES];
        body.getBytes(body.readerIndex() + Frame.AUTH_PROOF_OFFSET, proof);
        return proof;
    }

    /** The owner key of a checked AUTH body: the secret of the private pools this connection may use. */
    public static OwnerKey authOwnerKey(ByteBuf body) {
        int at = body.readerIndex() + Frame.AUTH_OWNER_KEY_OFFSET;
        return new OwnerKey(body.getLong(at), body.getLong(at + Long.BYTES));
    }

    public static PoolSpec newPoolSpec(ByteBuf body) {
        int r = body.readerIndex();
        return new PoolSpec(body.getByte(r) == 1, body.getByte(r + 1) == 1, body.getLong(r + 4), body.getLong(r + 12));
    }

    public static int newPoolPageSize(ByteBuf body) {
        return body.getUnsignedShort(body.readerIndex() + 2);
    }

    public static int destroyPoolId(ByteBuf body) {
        return body.getInt(body.readerIndex());
    }

    // ---- responses ----

    /**
     * Verifies that an OK reply of PUT, FLUSH_PAGE or HANDBACK is a status vector of exactly {@code expected}
     * entries (the count of the request it answers); the donor checks HANDBACK replies with it before
     * freeing anything.
     */
    public static void checkStatusVector(ByteBuf body, int expected) throws ProtocolException {
        int length = body.readableBytes();
        need(length >= Frame.STATUS_VECTOR_PREFIX_BYTES, "status vector shorter than its " + Frame.STATUS_VECTOR_PREFIX_BYTES + "-byte prefix");
        int count = replyCount(body);
        need(count == expected, "status vector of " + count + " entries answers a request of " + expected);
        need(length == Frame.statusVectorBytes(count), "status vector of " + count + " entries must be "
            + Frame.statusVectorBytes(count) + " bytes, got " + length);
    }

    /** Status of entry {@code i} in a PUT, GET or FLUSH_PAGE reply. */
    public static int replyStatus(ByteBuf body, int i) {
        return body.getUnsignedByte(body.readerIndex() + Frame.STATUS_VECTOR_PREFIX_BYTES + i);
    }

    public static int replyCount(ByteBuf body) {
        return body.getUnsignedShort(body.readerIndex());
    }

    /** Absolute index of the {@code hit}-th page (counting hits only) of a GET reply of {@code count} entries: crc u32 then data. */
    public static int getHitIndex(ByteBuf body, int count, int hit) {
        return body.readerIndex() + Frame.STATUS_VECTOR_PREFIX_BYTES + count + hit * Frame.GET_HIT_BYTES;
    }

    /**
     * The donor's name in an OK HELLO reply (the layout in {@link Frame}); a name longer than the body is cut at the
     * body's end, an unreadable reply yields "".
     */
    /** The donor's id after the name of an OK HELLO reply, or null when the reply has none (an older donor). */
    public static java.util.UUID helloReplyDonorId(ByteBuf body) {
        if (body.readableBytes() < Frame.HELLO_REPLY_FIXED_BYTES) {
            return null;
        }
        int at = Frame.HELLO_REPLY_FIXED_BYTES + body.getUnsignedShort(body.readerIndex() + Frame.HELLO_REPLY_NAME_LENGTH_OFFSET);
        if (body.readableBytes() < at + Frame.HELLO_REPLY_DONOR_ID_BYTES) {
            return null;
        }
        return new java.util.UUID(body.getLong(body.readerIndex() + at), body.getLong(body.readerIndex() + at + 8));
    }

    public static String helloReplyName(ByteBuf body) {
        if (body.readableBytes() < Frame.HELLO_REPLY_FIXED_BYTES) {
            return "";
        }
        int length = Math.min(body.getUnsignedShort(body.readerIndex() + Frame.HELLO_REPLY_NAME_LENGTH_OFFSET),
            body.readableBytes() - Frame.HELLO_REPLY_FIXED_BYTES);
        return body.toString(body.readerIndex() + Frame.HELLO_REPLY_FIXED_BYTES, length, StandardCharsets.UTF_8);
    }

    /** The pool id of an OK NEW_POOL reply. */
    public static int newPoolReplyId(ByteBuf body) throws ProtocolException {
        need(body.readableBytes() == 4, "NEW_POOL reply of " + body.readableBytes() + " bytes, expected 4");
        return body.getInt(body.readerIndex());
    }

    /** The pages removed, of an OK DESTROY_POOL reply. */
    public static long destroyPoolReplyRemoved(ByteBuf body) throws ProtocolException {
        need(body.readableBytes() == 8, "DESTROY_POOL reply of " + body.readableBytes() + " bytes, expected 8");
        return body.getLong(body.readerIndex());
    }

    /** The pages removed from the first object of an OK FLUSH_OBJECT reply (count u16, reserved u16, u32 each). */
    public static long flushObjectReplyRemoved(ByteBuf body) throws ProtocolException {
        need(body.readableBytes() >= Frame.STATUS_VECTOR_PREFIX_BYTES + 4 && replyCount(body) >= 1
            && body.readableBytes() == Frame.STATUS_VECTOR_PREFIX_BYTES + 4 * replyCount(body),
            "FLUSH_OBJECT reply of " + body.readableBytes() + " bytes does not hold its counts");
        return body.getUnsignedInt(body.readerIndex() + Frame.STATUS_VECTOR_PREFIX_BYTES);
    }

    /** The counters of an OK STATS reply, in the donor's order: count u16, then name length u8, name, value u64. */
    public static java.util.Map<String, Long> statsReply(ByteBuf body) throws ProtocolException {
        java.util.Map<String, Long> counters = new java.util.LinkedHashMap<>();
        int at = body.readerIndex();
        int end = at + body.readableBytes();
        need(end - at >= 2, "STATS reply shorter than its count");
        int count = body.getUnsignedShort(at);
        at += 2;
        for (int i = 0; i < count; i++) {
            need(end - at >= 1, "STATS reply ends inside counter " + i);
            int length = body.getUnsignedByte(at);
            need(end - at >= 1 + length + 8, "STATS reply ends inside counter " + i);
            String name = body.toString(at + 1, length, StandardCharsets.US_ASCII);
            counters.put(name, body.getLong(at + 1 + length));
            at += 1 + length + 8;
        }
        need(at == end, "STATS reply has " + (end - at) + " bytes after its last counter");
        return counters;
    }

    /** The reason text of an error reply (status != OK), or an empty string if the body is too short to hold one. */
    public static String errorMessage(ByteBuf body) {
        if (body.readableBytes() < 2) {
            return "";
        }
        int length = Math.min(body.getUnsignedShort(body.readerIndex()), body.readableBytes() - 2);
        return body.toString(body.readerIndex() + 2, length, StandardCharsets.UTF_8);
    }
}
