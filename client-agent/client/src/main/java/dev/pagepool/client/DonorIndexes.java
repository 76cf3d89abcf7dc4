package dev.pagepool.client;

/**
 * A donor is known inside the client by an index, from 0 to {@link #MAX_DONORS} - 1: a bit of the {@code long}
 * masks the extent map and placement keep per extent, a row of the pool's bookkeeping, a slot of a thread's lanes.
 */
final class DonorIndexes {
    /** Donor indexes fit the bit masks placement uses. */
    static final int MAX_DONORS = Long.SIZE;

    private DonorIndexes() {
    }
}
