package dev.pagepool.agent.client;

/**
 * Which donor holds a page. Pages are placed by extent, {@link #EXTENT_PAGES} consecutive indexes of one
 * object together, so that a sequential run of a swap device lands on one donor and travels in one frame,
 * while many extents still spread evenly over the donors.
 */
public final class PagePlacement {
    /** 64 pages = 256 KiB: a quarter of a full frame, so a large sequential batch touches few donors. */
    public static final int EXTENT_PAGES = 64;

    private final int donors;

    public PagePlacement(int donors) {
        this.donors = donors;
    }

    public int donorOf(long object, int index) {
        if (donors == 1) {
            return 0;
        }
        long extent = object * 0x9E3779B97F4A7C15L + ((index & 0xFFFFFFFFL) / EXTENT_PAGES);
        extent ^= extent >>> 33;
        extent *= 0xff51afd7ed558ccdL;
        extent ^= extent >>> 33;
        return (int) Math.floorMod(extent, (long) donors);
    }
}
