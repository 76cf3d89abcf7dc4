package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The frame-sized Netty buffer cache is the client's own setting: an application that embeds it gets it too. */
class NettyBufferCacheTest {
    @Test
    void loadingTheClientSetsNettysCacheToAFramesSizeUnlessTheJvmWasGivenAValue() throws Exception {
        Class.forName(PagePoolClient.class.getName(), true, PagePoolClient.class.getClassLoader());
        String given = System.getProperty(NettyBufferCache.PROPERTY);
        assertEquals(Integer.toString(2 << 20), given, "an embedding application's Netty caches frame-sized buffers");

        System.setProperty(NettyBufferCache.PROPERTY, "65536");
        try {
            NettyBufferCache.apply();
            assertEquals("65536", System.getProperty(NettyBufferCache.PROPERTY), "a value of the JVM's own is kept");
        } finally {
            System.setProperty(NettyBufferCache.PROPERTY, given);
        }
    }
}
