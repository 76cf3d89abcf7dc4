package dev.pagepool.agent.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

class PageContentTest {
    @Test
    void aPageIsTheSameEveryTimeAndDiffersFromItsNeighbours() {
        PageContent c = new PageContent(0.5);
        byte[] a = new byte[4096];
        byte[] b = new byte[4096];
        c.fill(3, 7, a, 0);
        c.fill(3, 7, b, 0);
        assertArrayEquals(a, b);
        c.fill(3, 8, b, 0);
        assertFalse(java.util.Arrays.equals(a, b));
        c.fill(4, 7, b, 0);
        assertFalse(java.util.Arrays.equals(a, b));
        assertTrue(c.matches(3, 7, a, 0, new byte[4096]));
        assertFalse(c.matches(3, 8, a, 0, new byte[4096]));
    }

    @Test
    void compressibilityFollowsTheRequestedFraction() {
        assertTrue(compressedSize(0.0) > 4000, "random pages do not compress");
        int half = compressedSize(0.5);
        assertTrue(half > 1900 && half < 2300, "half-compressible page compressed to " + half);
        assertTrue(compressedSize(0.9) < 600);
    }

    private static int compressedSize(double fraction) {
        byte[] page = new byte[4096];
        new PageContent(fraction).fill(1, 1, page, 0);
        Deflater d = new Deflater(Deflater.BEST_SPEED);
        d.setInput(page);
        d.finish();
        byte[] out = new byte[8192];
        int n = d.deflate(out);
        d.end();
        return n;
    }
}
