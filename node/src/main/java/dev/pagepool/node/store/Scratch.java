package dev.pagepool.node.store;

import java.nio.ByteBuffer;

/**
 * Working memory of one thread that calls the store: where a page is compressed before the store's lock is
 * taken. One per event loop, made once, so a put allocates nothing.
 */
public final class Scratch {
    final ByteBuffer compressed;
    /** Result of the last {@link PageCodec#encode}: encoding, stored length, fill word. */
    int encoding;
    int length;
    int fill;

    Scratch(int maxCompressedBytes) {
        compressed = ByteBuffer.allocateDirect(maxCompressedBytes);
    }
}
