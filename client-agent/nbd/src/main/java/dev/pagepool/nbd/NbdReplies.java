package dev.pagepool.nbd;

import io.netty.buffer.ByteBuf;
import java.util.logging.Level;
import java.util.logging.Logger;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Encodes what the server sends, byte for byte as the spec lays it out, so the wire format lives in one
 * place. Headers come from Netty's pooled allocator: small, frequent, and released once written.
 */
final class NbdReplies {
    private static final Logger LOG = Logger.getLogger(NbdReplies.class.getName());
    private NbdReplies() {
    }

    private static ByteBuf allocate(int bytes) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
    }

    /** The server's opening: NBDMAGIC, IHAVEOPT and the handshake flags. */
    static ByteBuf greeting() {
        ByteBuf b = allocate(18);
        b.writeLong(Nbd.NBDMAGIC);
        b.writeLong(Nbd.IHAVEOPT);
        b.writeShort(Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES);
        return b;
    }

    /** An option reply without data (ACK or an error). */
    static ByteBuf option(int option, int type) {
        ByteBuf b = allocate(20);
        optionHeader(b, option, type, 0);
        return b;
    }

    /** NBD_REP_SERVER naming an export, for NBD_OPT_LIST. */
    static ByteBuf server(int option, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = allocate(20 + 4 + n.length);
        optionHeader(b, option, Nbd.NBD_REP_SERVER, 4 + n.length);
        b.writeInt(n.length);
        b.writeBytes(n);
        return b;
    }

    static ByteBuf infoExport(int option, NbdExport export) {
        ByteBuf b = allocate(20 + 12);
        optionHeader(b, option, Nbd.NBD_REP_INFO, 12);
        b.writeShort(Nbd.NBD_INFO_EXPORT);
        b.writeLong(export.sizeBytes());
        b.writeShort(export.transmissionFlags());
        return b;
    }

    static ByteBuf infoBlockSize(int option, NbdExport export) {
        ByteBuf b = allocate(20 + 14);
        optionHeader(b, option, Nbd.NBD_REP_INFO, 14);
        b.writeShort(Nbd.NBD_INFO_BLOCK_SIZE);
        b.writeInt(Nbd.MIN_BLOCK_BYTES);
        b.writeInt(Nbd.PREFERRED_BLOCK_BYTES);
        b.writeInt(export.maxPayloadBytes());
        return b;
    }

    static ByteBuf infoName(int option, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = allocate(20 + 2 + n.length);
        optionHeader(b, option, Nbd.NBD_REP_INFO, 2 + n.length);
        b.writeShort(Nbd.NBD_INFO_NAME);
        b.writeBytes(n);
        return b;
    }

    /** The answer to NBD_OPT_EXPORT_NAME: size, flags, and the 124 zeroes unless the client declined them. */
    static ByteBuf exportName(NbdExport export, boolean noZeroes) {
        int bytes = 10 + (noZeroes ? 0 : 124);
        ByteBuf b = allocate(bytes);
        b.writeLong(export.sizeBytes());
        b.writeShort(export.transmissionFlags());
        b.writeZero(bytes - 10);
        return b;
    }

    static ByteBuf simple(int error, long cookie) {
        ByteBuf b = allocate(Nbd.NBD_SIMPLE_REPLY_BYTES);
        b.writeInt(Nbd.NBD_SIMPLE_REPLY_MAGIC);
        b.writeInt(error);
        b.writeLong(cookie);
        return b;
    }

    /** The wire error for a device failure: ENOSPC when the device is full, EIO for anything else. */
    static int errorOf(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof NoSpaceException) {
            return Nbd.NBD_ENOSPC;
        }
        // An I/O error reaches the host's kernel as a failed swap-in: the operator must be able to see why.
        LOG.log(Level.WARNING, "answering EIO: " + t, t);
        return Nbd.NBD_EIO;
    }

    private static void optionHeader(ByteBuf b, int option, int type, int length) {
        b.writeLong(Nbd.NBD_REP_MAGIC);
        b.writeInt(option);
        b.writeInt(type);
        b.writeInt(length);
    }
}
