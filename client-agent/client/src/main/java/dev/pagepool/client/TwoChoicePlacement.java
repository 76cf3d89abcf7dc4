package dev.pagepool.client;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Infiniswap's rule for placing an extent: look at two donors picked at random and take the one with more free
 * memory. It needs no global view and spreads load almost as well as asking everyone; a donor that is fuller
 * (or whose report is older) simply loses more of the coin tosses.
 */
final class TwoChoicePlacement {
    private TwoChoicePlacement() {
    }

    /**
     * A donor among the UP links of {@code links[0..count)} whose bit is clear in {@code excluded}, or
     * {@link ExtentMap#NONE} when there is none.
     */
    static int choose(DonorLink[] links, int count, long excluded) {
        int candidates = 0;
        for (int d = 0; d < count; d++) {
            if (eligible(links[d], excluded)) {
                candidates++;
            }
        }
        if (candidates == 0) {
            return ExtentMap.NONE;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int a = nth(links, count, excluded, random.nextInt(candidates));
        if (candidates == 1) {
            return a;
        }
        int pick = random.nextInt(candidates - 1);
        int b = nth(links, count, excluded | (1L << a), pick);
        return links[b].freeBytes() > links[a].freeBytes() ? b : a;
    }

    private static boolean eligible(DonorLink link, long excluded) {
        return link != null && link.isUp() && (excluded & (1L << link.index)) == 0;
    }

    private static int nth(DonorLink[] links, int count, long excluded, int n) {
        for (int d = 0; d < count; d++) {
            if (eligible(links[d], excluded) && n-- == 0) {
                return d;
            }
        }
        throw new IllegalStateException("fewer eligible donors than counted");
    }
}
