package dev.pagepool.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/** Where the client's request frames are written: pooled direct buffers of the exact size, one frame each. */
public final class FrameBuffers {
    private FrameBuffers() {
    }

    /** A buffer for a frame of {@code bytes}, which whoever sends the frame releases. */
    public static ByteBuf allocate(int bytes) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes, bytes);
    }
}
