package dev.pagepool.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C of a page, end to end: the client computes it before sending, the donor checks it before storing and
 * computes it again when serving, and the client checks it on arrival. The JDK's CRC32C is an intrinsic
 * (SSE4.2 / ARMv8 crc instructions), several GB/s, so checking every page costs little.
 * One instance per thread; it keeps its CRC32C engine so a check allocates nothing.
 */
public final class PageChecksum {
    private final CRC32C crc = new CRC32C();

    public int of(ByteBuf buf, int index, int length) {
        crc.reset();
        if (buf.nioBufferCount() == 1) {
            crc.update(buf.internalNioBuffer(index, length));
        } else {
            for (ByteBuffer part : buf.nioBuffers(index, length)) {
                crc.update(part);
            }
        }
        return (int) crc.getValue();
    }

    public int of(ByteBuffer buf, int index, int length) {
        crc.reset();
        int position = buf.position();
        int limit = buf.limit();
        buf.limit(index + length);
        buf.position(index);
        crc.update(buf);
        buf.limit(limit);
        buf.position(position);
        return (int) crc.getValue();
    }

    public int of(byte[] bytes, int offset, int length) {
        crc.reset();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
