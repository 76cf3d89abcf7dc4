package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * How a 4 KiB page is stored: as one repeated 32-bit word, LZ4-compressed, or raw.
 *
 * <p>Same-filled pages come first because they are common in swap (zeroed memory never touched again) and cost
 * nothing: zswap reports a large share of them. Then LZ4, kept only when the compressed page lands in a
 * smaller size class than a raw one, since anything else pays decompression for no memory saved.
 * Decompression uses the safe decompressor with a bounded 4096-byte destination: the arena holds data that
 * came from the network, and a corrupted length must not write past a page.
 *
 * <p>The codec is {@code LZ4Factory.fastestInstance()}, except that when that settles for pure Java the native
 * codec is asked for directly. {@code fastestInstance()} tries JNI only from the system class loader, to keep
 * one native library from being bound to two loaders; Quarkus and Maven's exec plugin load the store from
 * their own loaders, where the JNI codec is about twice as fast as the Java one for a 4 KiB page. If the
 * library cannot be loaded there, the Java codec stays.
 */
final class PageCodec {
    static final int RAW = 0;
    static final int LZ4 = 1;
    static final int SAME_FILLED = 2;

    private final LZ4Compressor compressor;
    private final LZ4SafeDecompressor decompressor;
    private final boolean compression;
    private final String name;

    PageCodec(boolean compression) {
        LZ4Factory factory = pickFactory();
        this.compressor = factory.fastCompressor();
        this.decompressor = factory.safeDecompressor();
        this.compression = compression;
        this.name = compression ? "lz4 " + factory : "compression off";
    }

    private static LZ4Factory pickFactory() {
        LZ4Factory fastest = LZ4Factory.fastestInstance();
        try {
            return LZ4Factory.nativeInstance(); // the same instance as fastest when that is already JNI
        } catch (Throwable noNativeCodec) { // UnsatisfiedLinkError, or the platform has no bundled library
            return fastest;
        }
    }

    String name() {
        return name;
    }

    int maxCompressedBytes() {
        return compressor.maxCompressedLength(PageStore.PAGE_SIZE);
    }

    /** Decides how to store the page at {@code src[offset..offset+4096)}; the result is left in {@code s}. */
    void encode(Scratch s, ByteBuffer src, int offset) {
        int word = src.getInt(offset);
        long pattern = ((long) word << 32) | (word & 0xFFFFFFFFL);
        boolean same = true;
        for (int i = 0; i < PageStore.PAGE_SIZE && same; i += Long.BYTES) {
            same = src.getLong(offset + i) == pattern;
        }
        if (same) {
            s.encoding = SAME_FILLED;
            s.length = 0;
            s.fill = word;
            return;
        }
        if (compression) {
            int n = compressor.compress(src, offset, PageStore.PAGE_SIZE, s.compressed, 0, s.compressed.capacity());
            if (SizeClasses.classOf(n) < SizeClasses.classOf(PageStore.PAGE_SIZE)) {
                s.encoding = LZ4;
                s.length = n;
                return;
            }
        }
        s.encoding = RAW;
        s.length = PageStore.PAGE_SIZE;
    }

    /** Writes the 4096 bytes of a stored page into {@code dst} at {@code dstOffset}. */
    void decode(int encoding, ByteBuffer arena, int at, int length, int fill, ByteBuffer dst, int dstOffset) {
        switch (encoding) {
            case SAME_FILLED -> {
                long pattern = ((long) fill << 32) | (fill & 0xFFFFFFFFL);
                for (int i = 0; i < PageStore.PAGE_SIZE; i += Long.BYTES) {
                    dst.putLong(dstOffset + i, pattern);
                }
            }
            case LZ4 -> {
                int n = decompressor.decompress(arena, at, length, dst, dstOffset, PageStore.PAGE_SIZE);
                if (n != PageStore.PAGE_SIZE) {
                    throw new IllegalStateException("stored page decompressed to " + n + " bytes, not " + PageStore.PAGE_SIZE);
                }
            }
            default -> dst.put(dstOffset, arena, at, PageStore.PAGE_SIZE);
        }
    }
}
