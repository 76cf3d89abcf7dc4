package dev.pagepool.node.store;

/** Hash mixing and range reduction shared by the store's open-addressing tables. */
final class Hashing {
    private Hashing() {
    }

    /** Murmur3's 64-bit finaliser: every input bit affects every output bit, so sequential keys spread out. */
    static long mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    /**
     * Maps a hash onto {@code 0..n-1} by multiply-shift (Lemire's fastrange) rather than a power-of-two mask,
     * so a table can be sized to its load and not to the next power of two: at a million pages that is the
     * difference between about 5 and 8 bytes of bucket per page.
     */
    static int slot(long hash, int n) {
        return (int) (((hash >>> 32) * n) >>> 32);
    }
}
