package dev.pagepool.agent.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PagePlacementTest {
    @Test
    void aPageAlwaysMapsToTheSameDonor() {
        PagePlacement a = new PagePlacement(5);
        PagePlacement b = new PagePlacement(5);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(a.donorOf(i * 31L, i), b.donorOf(i * 31L, i));
        }
    }

    @Test
    void anExtentOfConsecutivePagesStaysOnOneDonor() {
        PagePlacement p = new PagePlacement(4);
        for (int extent = 0; extent < 100; extent++) {
            int first = p.donorOf(9, extent * PagePlacement.EXTENT_PAGES);
            for (int i = 1; i < PagePlacement.EXTENT_PAGES; i++) {
                assertEquals(first, p.donorOf(9, extent * PagePlacement.EXTENT_PAGES + i));
            }
        }
    }

    @Test
    void extentsSpreadEvenlyOverDonors() {
        int donors = 4;
        PagePlacement p = new PagePlacement(donors);
        int[] count = new int[donors];
        int extents = 40_000;
        for (int e = 0; e < extents; e++) {
            count[p.donorOf(e % 7, e * PagePlacement.EXTENT_PAGES)]++;
        }
        for (int c : count) {
            assertTrue(Math.abs(c - extents / donors) < extents / donors / 10, "uneven: " + java.util.Arrays.toString(count));
        }
    }
}
