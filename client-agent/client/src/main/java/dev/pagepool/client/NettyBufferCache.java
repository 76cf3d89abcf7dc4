package dev.pagepool.client;

/**
 * The Netty setting the client's frames need. Frames are up to 1 MiB; Netty's per-thread buffer caches keep only
 * buffers up to 32 KiB by default, so every larger frame went to the shared arena, whose chunks were freed when
 * traffic paused and allocated (and zeroed) again on the next burst. Caching frame-sized buffers per thread tripled
 * the agent's 4 KiB write IOPS.
 *
 * <p>Netty reads the setting once, when its pooled allocator class loads. The client applies it when its own class
 * loads, before it makes a Vert.x; an application that loads Netty earlier (its own Vert.x or Netty server, say)
 * calls {@link #apply} first thing in {@code main}, or passes {@code -Dio.netty.allocator.maxCachedBufferCapacity}
 * itself. A value given on the command line is kept.
 */
public final class NettyBufferCache {
    static final String PROPERTY = "io.netty.allocator.maxCachedBufferCapacity";
    /** The largest buffer a thread's cache keeps: a frame of 256 pages and its header fit. */
    static final int FRAME_CACHE_BYTES = 2 << 20;

    private NettyBufferCache() {
    }

    /** Sets the cache's largest buffer to a frame's size, unless the JVM was given a value of its own. */
    public static void apply() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, Integer.toString(FRAME_CACHE_BYTES));
        }
    }
}
