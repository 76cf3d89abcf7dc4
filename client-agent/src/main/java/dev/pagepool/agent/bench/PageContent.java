package dev.pagepool.agent.bench;

import dev.pagepool.protocol.Frame;

/**
 * Deterministic page contents for load and verification: page (object, index) always has the same bytes, so
 * a reader regenerates what a writer wrote without keeping a copy. A fraction {@code compressible} of each
 * page is text-like (a short phrase repeated, as in program data and logs), the rest is pseudo-random and
 * incompressible, which gives LZ4 ratios close to 1 / (1 - compressible).
 */
public final class PageContent {
    private static final byte[] PHRASE = "pagepool keeps spare RAM busy; ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final double compressible;

    public PageContent(double compressible) {
        if (compressible < 0 || compressible > 1) {
            throw new IllegalArgumentException("compressible must be within 0..1, got " + compressible);
        }
        this.compressible = compressible;
    }

    /** Writes page (object, index) into {@code dst[offset..offset+4096)}. */
    public void fill(long object, int index, byte[] dst, int offset) {
        int text = (int) (Frame.PAGE_BYTES * compressible);
        long seed = object * 0x9E3779B97F4A7C15L + index + 1;
        for (int i = 0; i < text; i++) {
            dst[offset + i] = PHRASE[(int) Math.floorMod(i + seed, (long) PHRASE.length)];
        }
        long x = seed;
        for (int i = text; i < Frame.PAGE_BYTES; i++) {
            // xorshift64*: cheap, and far from compressible
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
            dst[offset + i] = (byte) ((x * 0x2545F4914F6CDD1DL) >>> 56);
        }
    }

    /** True when {@code got[offset..+4096)} is exactly page (object, index); {@code scratch} holds one page. */
    public boolean matches(long object, int index, byte[] got, int offset, byte[] scratch) {
        fill(object, index, scratch, 0);
        return java.util.Arrays.equals(got, offset, offset + Frame.PAGE_BYTES, scratch, 0, Frame.PAGE_BYTES);
    }
}
