package dev.pagepool.node.net;

import dev.pagepool.protocol.Frame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The data path's memory, allocated once at start and never grown: the buffers that incoming frames are read
 * into and that replies are written from.
 *
 * <p>Why a fixed reserve: a donor is asked to give memory back exactly when its machine is short of it, and
 * giving it back (serving gets, flushes, hand-back acknowledgements) needs buffers. If those buffers had to be
 * allocated then, freeing memory would need memory: the swap-over-network deadlock of the seed threads. So
 * the buffers exist from the start, and {@link #admitsPuts()} turns new puts away once half of the reserve
 * is taken, leaving the other half to traffic that makes progress.
 *
 * <p>Two size classes keep small frames (gets, flushes, status replies) from pinning a whole frame-sized
 * buffer: {@link #SMALL_BUFFER_BYTES} and a full frame. A small request falls back to a large buffer when the
 * small ones are gone. Buffers are handed out and returned on event-loop threads, so the free stacks are
 * guarded by the object's monitor: held for a few instructions, once per frame, never per page.
 */
public final class BufferReserve {
    /** Holds any frame of up to 15 pages of data, every request but a large PUT, and every status reply. */
    public static final int SMALL_BUFFER_BYTES = 64 * 1024;
    public static final int LARGE_BUFFER_BYTES = Frame.HEADER_BYTES + Frame.MAX_BODY_BYTES;
    /** Share of the reserve given to small buffers: they are cheap and most frames are small. */
    private static final double SMALL_SHARE = 0.25;

    private final ByteBuf[] small;
    private final ByteBuf[] large;
    private int smallFree;
    private int largeFree;
    private final long totalBytes;
    private long usedBytes;

    public BufferReserve(long reserveBytes) {
        int smallCount = (int) Math.max(2, (long) (reserveBytes * SMALL_SHARE) / SMALL_BUFFER_BYTES);
        int largeCount = (int) Math.max(2, (reserveBytes - (long) smallCount * SMALL_BUFFER_BYTES) / LARGE_BUFFER_BYTES);
        small = new ByteBuf[smallCount];
        large = new ByteBuf[largeCount];
        for (int i = 0; i < smallCount; i++) {
            small[i] = touch(Unpooled.directBuffer(SMALL_BUFFER_BYTES, SMALL_BUFFER_BYTES));
        }
        for (int i = 0; i < largeCount; i++) {
            large[i] = touch(Unpooled.directBuffer(LARGE_BUFFER_BYTES, LARGE_BUFFER_BYTES));
        }
        smallFree = smallCount;
        largeFree = largeCount;
        totalBytes = (long) smallCount * SMALL_BUFFER_BYTES + (long) largeCount * LARGE_BUFFER_BYTES;
    }

    /** Writes every page of the buffer so the kernel backs it now, not in the middle of a memory shortage. */
    private static ByteBuf touch(ByteBuf buf) {
        buf.setZero(0, buf.capacity());
        return buf;
    }

    /**
     * A cleared buffer of at least {@code bytes}, or null when the reserve has none: the caller answers BUSY.
     * Return it with {@link #release}.
     */
    public synchronized ByteBuf acquire(int bytes) {
        ByteBuf buf = null;
        if (bytes <= SMALL_BUFFER_BYTES && smallFree > 0) {
            buf = small[--smallFree];
            small[smallFree] = null;
        } else if (bytes <= LARGE_BUFFER_BYTES && largeFree > 0) {
            buf = large[--largeFree];
            large[largeFree] = null;
        }
        if (buf == null) {
            return null; // counted by the caller as a BUSY reply
        }
        usedBytes += buf.capacity();
        buf.clear();
        return buf;
    }

    public synchronized void release(ByteBuf buf) {
        usedBytes -= buf.capacity();
        if (buf.capacity() == SMALL_BUFFER_BYTES) {
            small[smallFree++] = buf;
        } else {
            large[largeFree++] = buf;
        }
    }

    /** False once half the reserve is in use: puts are then rejected so that gets and flushes find buffers. */
    public synchronized boolean admitsPuts() {
        return usedBytes * 2 < totalBytes;
    }

    /** How many frame-sized buffers the reserve holds; hand-back takes at most a quarter of them. */
    public int largeBuffers() {
        return large.length;
    }

    public long totalBytes() {
        return totalBytes;
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }
}
