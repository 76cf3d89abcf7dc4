package dev.pagepool.client;

import java.util.ArrayList;
import java.util.List;

/**
 * Pages of a shared pool that this client put or flushed while their donor was out of service: the donor may
 * still hold older versions of them, and must flush them before it serves again. Bounded per donor; past the
 * bound the donor's copy of the whole pool is untrusted and is wiped on readmission instead.
 */
final class OwedFlushes {
    /** Owed pages remembered per donor; beyond it the whole pool is wiped there (a cache loses its pages). */
    static final int MAX_PER_DONOR = 64 * 1024;

    private final List<long[]>[] owed;
    private final boolean[] overflowed;

    @SuppressWarnings("unchecked")
    OwedFlushes() {
        owed = new List[DonorIndexes.MAX_DONORS];
        overflowed = new boolean[DonorIndexes.MAX_DONORS];
    }

    synchronized void owe(int donor, long object, int index) {
        if (overflowed[donor]) {
            return;
        }
        List<long[]> pages = owed[donor] == null ? owed[donor] = new ArrayList<>() : owed[donor];
        if (pages.size() == MAX_PER_DONOR) {
            overflowed[donor] = true;
            owed[donor] = null;
            return;
        }
        pages.add(new long[] {object, index});
    }

    /** What was owed is no longer known in full: the donor's copy of the pool is wiped on readmission. */
    synchronized void overflow(int donor) {
        overflowed[donor] = true;
        owed[donor] = null;
    }

    /** Whether so much is owed that the donor's copy of the pool must be wiped. */
    synchronized boolean overflowed(int donor) {
        return overflowed[donor];
    }

    /** Takes what is owed on {@code donor}: pairs of (object, index). */
    synchronized List<long[]> take(int donor) {
        List<long[]> pages = owed[donor];
        owed[donor] = null;
        overflowed[donor] = false;
        return pages == null ? List.of() : pages;
    }
}
