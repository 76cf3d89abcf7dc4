package dev.pagepool.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Writes frames into a caller's buffer. Nothing here allocates: callers size and own the buffers, and
 * vectored frames are written as a prefix followed by entries, so a batch is encoded in place.
 * Every method returns the writer index at which its frame's header starts, for {@link #patchBodyLength}.
 */
public final class FrameWriter {
    private FrameWriter() {
    }

    public static int header(ByteBuf out, int opcode, int flags, long requestId, int bodyLength, int status) {
        return header(out, Frame.VERSION, opcode, flags, requestId, bodyLength, status);
    }

    private static int header(ByteBuf out, int version, int opcode, int flags, long requestId, int bodyLength, int status) {
        int start = out.writerIndex();
        out.writeInt(Frame.MAGIC);
        out.writeByte(version);
        out.writeByte(opcode);
        out.writeShort(flags);
        out.writeLong(requestId);
        out.writeInt(bodyLength);
        out.writeShort(status);
        out.writeShort(0);
        return start;
    }

    /** Sets the body length of the frame whose header starts at {@code headerStart} to what was written since. */
    public static void patchBodyLength(ByteBuf out, int headerStart) {
        out.setInt(headerStart + Frame.BODY_LENGTH_OFFSET, out.writerIndex() - headerStart - Frame.HEADER_BYTES);
    }

    /** HELLO: the first step of the handshake; carries the client's nonce, never the token. */
    public static int hello(ByteBuf out, long requestId, long clientId, byte[] clientNonce) {
        return hello(out, requestId, clientId, clientNonce, 0);
    }

    /** HELLO with {@code helloFlags} ({@link Frame#HELLO_CALLS_ONLY}). */
    public static int hello(ByteBuf out, long requestId, long clientId, byte[] clientNonce, int helloFlags) {
        checkLength(clientNonce, Frame.NONCE_BYTES, "client nonce");
        int start = header(out, Opcode.HELLO, 0, requestId, Frame.HELLO_BYTES, Status.OK);
        out.writeShort(Frame.VERSION);
        out.writeShort(helloFlags);
        out.writeLong(clientId);
        out.writeBytes(clientNonce);
        return start;
    }

    /** The donor's answer to HELLO: its limits, its nonce and its proof that it knows the token. */
    public static int helloReply(ByteBuf out, long requestId, int maxPagesPerFrame, int maxBodyBytes, byte[] donorNonce,
                                 byte[] donorProof, String nodeName) {
        return helloReply(out, requestId, maxPagesPerFrame, maxBodyBytes, donorNonce, donorProof, nodeName, null);
    }

    /** The HELLO reply with the donor's id after its name ({@link Frame#HELLO_REPLY_DONOR_ID_BYTES}); null: none. */
    public static int helloReply(ByteBuf out, long requestId, int maxPagesPerFrame, int maxBodyBytes, byte[] donorNonce,
                                 byte[] donorProof, String nodeName, java.util.UUID donorId) {
        checkLength(donorNonce, Frame.NONCE_BYTES, "donor nonce");
        checkLength(donorProof, Frame.PROOF_BYTES, "donor proof");
        byte[] name = nodeName.getBytes(StandardCharsets.UTF_8);
        if (name.length > 0xFFFF) {
            throw new IllegalArgumentException("node name longer than 65535 bytes");
        }
        int start = header(out, Opcode.HELLO, Frame.FLAG_RESPONSE, requestId,
            Frame.HELLO_REPLY_FIXED_BYTES + name.length + (donorId == null ? 0 : Frame.HELLO_REPLY_DONOR_ID_BYTES), Status.OK);
        out.writeShort(Frame.VERSION);
        out.writeShort(maxPagesPerFrame);
        out.writeInt(maxBodyBytes);
        out.writeBytes(donorNonce);
        out.writeBytes(donorProof);
        out.writeShort(name.length);
        out.writeBytes(name);
        if (donorId != null) {
            out.writeLong(donorId.getMostSignificantBits());
            out.writeLong(donorId.getLeastSignificantBits());
        }
        return start;
    }

    /** AUTH: the client's proof and owner key, sent only after it has checked the donor's proof. */
    public static int auth(ByteBuf out, long requestId, byte[] clientProof, OwnerKey ownerKey) {
        checkLength(clientProof, Frame.PROOF_BYTES, "client proof");
        int start = header(out, Opcode.AUTH, 0, requestId, Frame.AUTH_BYTES, Status.OK);
        out.writeBytes(clientProof);
        out.writeLong(ownerKey.high());
        out.writeLong(ownerKey.low());
        return start;
    }

    /** The OK reply to AUTH: the connection is authenticated both ways. */
    public static int authReply(ByteBuf out, long requestId) {
        return header(out, Opcode.AUTH, Frame.FLAG_RESPONSE, requestId, 0, Status.OK);
    }

    private static void checkLength(byte[] bytes, int expected, String what) {
        if (bytes.length != expected) {
            throw new IllegalArgumentException(what + " must be " + expected + " bytes, got " + bytes.length);
        }
    }

    public static int newPool(ByteBuf out, long requestId, PoolSpec spec) {
        int start = header(out, Opcode.NEW_POOL, 0, requestId, Frame.NEW_POOL_BYTES, Status.OK);
        out.writeByte(spec.persistent() ? 1 : 0);
        out.writeByte(spec.shared() ? 1 : 0);
        out.writeShort(Frame.PAGE_BYTES);
        out.writeLong(spec.uuidHigh());
        out.writeLong(spec.uuidLow());
        return start;
    }

    public static int newPoolReply(ByteBuf out, long requestId, int poolId) {
        int start = header(out, Opcode.NEW_POOL, Frame.FLAG_RESPONSE, requestId, 4, Status.OK);
        out.writeInt(poolId);
        return start;
    }

    public static int destroyPool(ByteBuf out, long requestId, int poolId) {
        int start = header(out, Opcode.DESTROY_POOL, 0, requestId, Frame.DESTROY_POOL_BYTES, Status.OK);
        out.writeInt(poolId);
        return start;
    }

    public static int destroyPoolReply(ByteBuf out, long requestId, long pagesRemoved) {
        int start = header(out, Opcode.DESTROY_POOL, Frame.FLAG_RESPONSE, requestId, 8, Status.OK);
        out.writeLong(pagesRemoved);
        return start;
    }

    /**
     * Starts a vectored request (PUT, GET, FLUSH_PAGE, FLUSH_OBJECT) of {@code count} entries; the caller then
     * writes exactly {@code count} entries with {@link #putEntry}, {@link #keyEntry} or {@link #objectEntry}.
     */
    public static int vector(ByteBuf out, int opcode, int flags, long requestId, int pool, int count) {
        if (count < 0 || count > Frame.MAX_PAGES_PER_FRAME) {
            throw new IllegalArgumentException("a frame carries 0.." + Frame.MAX_PAGES_PER_FRAME + " entries, not " + count);
        }
        int body = switch (opcode) {
            case Opcode.PUT -> Frame.putBodyBytes(count);
            case Opcode.GET, Opcode.FLUSH_PAGE -> Frame.keyBodyBytes(count);
            case Opcode.FLUSH_OBJECT -> Frame.flushObjectBodyBytes(count);
            default -> throw new IllegalArgumentException(Opcode.name(opcode) + " is not a vectored opcode");
        };
        int start = header(out, opcode, flags, requestId, body, Status.OK);
        out.writeInt(pool);
        out.writeShort(count);
        out.writeShort(0);
        return start;
    }

    /**
     * One PUT (or HANDBACK) entry; {@code version} is the client's opaque version of this write of the page,
     * which the donor keeps with it and returns in HANDBACK.
     */
    public static void putEntry(ByteBuf out, long object, int index, int crc, long version, ByteBuf page, int pageIndex) {
        putEntryFields(out, object, index, crc, version);
        out.writeBytes(page, pageIndex, Frame.PAGE_BYTES);
    }

    /** {@link #putEntry(ByteBuf, long, int, int, long, ByteBuf, int)} from an array. */
    public static void putEntry(ByteBuf out, long object, int index, int crc, long version, byte[] page, int offset) {
        putEntryFields(out, object, index, crc, version);
        out.writeBytes(page, offset, Frame.PAGE_BYTES);
    }

    private static void putEntryFields(ByteBuf out, long object, int index, int crc, long version) {
        out.writeLong(object);
        out.writeInt(index);
        out.writeInt(crc);
        out.writeLong(version);
    }

    public static void keyEntry(ByteBuf out, long object, int index) {
        out.writeLong(object);
        out.writeInt(index);
    }

    public static void objectEntry(ByteBuf out, long object) {
        out.writeLong(object);
    }

    /**
     * Starts a reply made of one status byte per entry (PUT, FLUSH_PAGE), or the status part of a GET reply;
     * the caller writes the {@code count} status bytes (and for GET the hits) and then calls
     * {@link #patchBodyLength}.
     */
    public static int statusVectorReply(ByteBuf out, int opcode, long requestId, int count) {
        int start = header(out, opcode, Frame.FLAG_RESPONSE, requestId, 0, Status.OK);
        out.writeShort(count);
        out.writeShort(0);
        return start;
    }

    /**
     * Starts a HANDBACK request (donor to client) of {@code count} pages of {@code pool}; the caller then writes
     * exactly {@code count} entries with {@link #putEntry} (the PUT entry layout: object, index, crc32c of the
     * 4096 uncompressed bytes, the version of the client's last put of the page, data). {@code requestId} comes from the donor's own per-connection counter.
     */
    public static int handback(ByteBuf out, long requestId, int pool, int count) {
        if (count < 0 || count > Frame.MAX_HANDBACK_PAGES) {
            throw new IllegalArgumentException("a HANDBACK frame carries 0.." + Frame.MAX_HANDBACK_PAGES + " pages, not " + count);
        }
        int start = header(out, Opcode.HANDBACK, 0, requestId, Frame.handbackBodyBytes(count), Status.OK);
        out.writeInt(pool);
        out.writeShort(count);
        out.writeShort(0);
        return start;
    }

    /**
     * The client's whole answer to a HANDBACK: the PUT reply layout, one page status per entry in entry order.
     * {@link Status#PAGE_OK} means "I hold this page now, free it"; {@link Status#PAGE_REJECTED} means "I could
     * not take it, keep it". To stream the statuses instead, use {@link #statusVectorReply} with
     * {@link Opcode#HANDBACK}, write the bytes and {@link #patchBodyLength}.
     */
    public static int handbackReply(ByteBuf out, long requestId, byte[] pageStatuses, int count) {
        if (count < 0 || count > Frame.MAX_HANDBACK_PAGES || count > pageStatuses.length) {
            throw new IllegalArgumentException("a HANDBACK reply carries 0.." + Frame.MAX_HANDBACK_PAGES + " statuses, not " + count);
        }
        int start = header(out, Opcode.HANDBACK, Frame.FLAG_RESPONSE, requestId, Frame.statusVectorBytes(count), Status.OK);
        out.writeShort(count);
        out.writeShort(0);
        out.writeBytes(pageStatuses, 0, count);
        return start;
    }

    /** FLUSH_OBJECT reply: count u16, reserved u16, pages removed u32 per object. */
    public static int flushObjectReply(ByteBuf out, long requestId, int[] removed, int count) {
        int start = header(out, Opcode.FLUSH_OBJECT, Frame.FLAG_RESPONSE, requestId,
            Frame.STATUS_VECTOR_PREFIX_BYTES + 4 * count, Status.OK);
        out.writeShort(count);
        out.writeShort(0);
        for (int i = 0; i < count; i++) {
            out.writeInt(removed[i]);
        }
        return start;
    }

    public static int ping(ByteBuf out, long requestId, long payload) {
        return ping(out, requestId, payload, 0);
    }

    /** A PING with {@code flags}: 0, or {@link Frame#FLAG_FENCE}. */
    public static int ping(ByteBuf out, long requestId, long payload, int flags) {
        int start = header(out, Opcode.PING, flags, requestId, 8, Status.OK);
        out.writeLong(payload);
        return start;
    }

    /** Echoes a PING body. */
    public static int pong(ByteBuf out, long requestId, ByteBuf body) {
        int start = header(out, Opcode.PING, Frame.FLAG_RESPONSE, requestId, body.readableBytes(), Status.OK);
        out.writeBytes(body, body.readerIndex(), body.readableBytes());
        return start;
    }

    public static int stats(ByteBuf out, long requestId) {
        return header(out, Opcode.STATS, 0, requestId, 0, Status.OK);
    }

    /** STATS reply: count u16, then per counter: name length u8, ASCII name, value u64 (signed). */
    public static int statsReply(ByteBuf out, long requestId, String[] names, long[] values) {
        for (String name : names) {
            if (name.length() > 0xFF) {
                throw new IllegalArgumentException("counter name longer than 255 characters: " + name);
            }
        }
        int start = header(out, Opcode.STATS, Frame.FLAG_RESPONSE, requestId, 0, Status.OK);
        out.writeShort(names.length);
        for (int i = 0; i < names.length; i++) {
            byte[] name = names[i].getBytes(StandardCharsets.US_ASCII);
            out.writeByte(name.length);
            out.writeBytes(name);
            out.writeLong(values[i]);
        }
        patchBodyLength(out, start);
        return start;
    }

    /** A failed request: the status in the header, a human-readable reason in the body. */
    public static int error(ByteBuf out, int opcode, long requestId, int status, String message) {
        return error(out, Frame.VERSION, opcode, requestId, status, message);
    }

    /**
     * An error in the header version the peer spoke, for refusing a peer of an older version in words it can
     * read: the error layout is the same in every version.
     */
    public static int errorInVersion(ByteBuf out, int version, int opcode, long requestId, int status, String message) {
        if (version < 1 || version > Frame.VERSION) {
            throw new IllegalArgumentException("version must be 1.." + Frame.VERSION + ", got " + version);
        }
        return error(out, version, opcode, requestId, status, message);
    }

    private static int error(ByteBuf out, int version, int opcode, long requestId, int status, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, Frame.MAX_ERROR_MESSAGE_BYTES);
        // Cut before a character, never inside one, so the truncated message is still valid UTF-8.
        while (length < text.length && length > 0 && (text[length] & 0xC0) == 0x80) {
            length--;
        }
        int start = header(out, version, opcode, Frame.FLAG_RESPONSE, requestId, 2 + length, status);
        out.writeShort(length);
        out.writeBytes(text, 0, length);
        return start;
    }
}
