package dev.pagepool.agent.swap;

import dev.pagepool.agent.state.SlotPlaces;

/**
 * Where each 4 KiB slot of the swap device lives: nowhere (never written, trimmed, or written as zeros), in the
 * cluster, or in the local disk file; two bits of the slot's four in {@link SlotPlaces} (on the heap, or in the
 * agent's state file, where it outlives the process). Lock-free; every change is a CAS. Which operation may
 * change a slot, and in what order, is {@link SlotOrder}'s business.
 */
final class SlotMap {
    static final int NOWHERE = 0;
    static final int CLUSTER = 1;
    static final int DISK = 2;

    private static final long PLACE_MASK = 0b0011;

    private final SlotPlaces places;

    SlotMap(SlotPlaces places) {
        this.places = places;
    }

    long slots() {
        return places.slots();
    }

    int place(long slot) {
        return (int) (places.get(slot) & PLACE_MASK);
    }

    /** Records where the slot lives; the caller holds the slot's order (see {@link SlotOrder}). */
    void setPlace(long slot, int place) {
        places.set(slot, PLACE_MASK, place);
    }

    /** How many slots are in each place: index NOWHERE, CLUSTER, DISK. */
    long[] census() {
        long[] counts = new long[3];
        for (long s = 0; s < slots(); s++) {
            counts[place(s)]++;
        }
        return counts;
    }
}
