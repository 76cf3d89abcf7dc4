package dev.pagepool.node.handback;

import dev.pagepool.protocol.Frame;
import java.util.SplittableRandom;

/** Incompressible pages, one 4 KiB slab slot each, the same for the same seed. */
final class RandomPages {
    private RandomPages() {
    }

    static byte[][] of(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[][] pages = new byte[n][Frame.PAGE_BYTES];
        for (byte[] page : pages) {
            random.nextBytes(page);
        }
        return pages;
    }
}
