package dev.pagepool.agent.bench;

import dev.pagepool.protocol.Frame;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Deterministic page contents for load and verification: page (object, index) always has the same bytes, so
 * a reader regenerates what a writer wrote without keeping a copy. A fraction {@code compressible} of each
 * page is text-like (a short phrase repeated, as in program data and logs), the rest is random and
 * incompressible, which gives LZ4 ratios close to 1 / (1 - compressible).
 *
 * <p>Generating must cost far less than moving the page, or a benchmark measures its own generator: the
 * random part is a window into a pool of random bytes made once, chosen by the handle, and every page starts
 * with its handle so that two pages never share content by accident.
 */
public final class PageContent {
    private static final byte[] PHRASE = "pagepool keeps spare RAM busy; ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int POOL_BYTES = 1 << 20;
    private static final int HANDLE_BYTES = 12;
    private static final byte[] RANDOM = new byte[POOL_BYTES + Frame.PAGE_BYTES];
    private static final byte[] TEXT = new byte[Frame.PAGE_BYTES + PHRASE.length];

    static {
        new SplittableRandom(0x5EED).nextBytes(RANDOM);
        for (int i = 0; i < TEXT.length; i++) {
            TEXT[i] = PHRASE[i % PHRASE.length];
        }
    }

    private final int textBytes;

    public PageContent(double compressible) {
        if (compressible < 0 || compressible > 1) {
            throw new IllegalArgumentException("compressible must be within 0..1, got " + compressible);
        }
        this.textBytes = (int) (Frame.PAGE_BYTES * compressible);
    }

    /** Writes page (object, index) into {@code dst[offset..offset+4096)}. */
    public void fill(long object, int index, byte[] dst, int offset) {
        long h = mix(object * 0x9E3779B97F4A7C15L + index);
        System.arraycopy(TEXT, (int) Math.floorMod(h, (long) PHRASE.length), dst, offset, textBytes);
        int randomBytes = Frame.PAGE_BYTES - textBytes;
        System.arraycopy(RANDOM, (int) Math.floorMod(h >>> 7, (long) POOL_BYTES), dst, offset + textBytes, randomBytes);
        int stamp = Math.min(HANDLE_BYTES, Frame.PAGE_BYTES);
        for (int i = 0; i < stamp; i++) {
            long v = i < 8 ? object >>> (8 * i) : (long) index >>> (8 * (i - 8));
            dst[offset + Frame.PAGE_BYTES - stamp + i] = (byte) v;
        }
    }

    /** True when {@code got[offset..+4096)} is exactly page (object, index); {@code scratch} holds one page. */
    public boolean matches(long object, int index, byte[] got, int offset, byte[] scratch) {
        fill(object, index, scratch, 0);
        return Arrays.equals(got, offset, offset + Frame.PAGE_BYTES, scratch, 0, Frame.PAGE_BYTES);
    }

    private static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        return k;
    }
}
