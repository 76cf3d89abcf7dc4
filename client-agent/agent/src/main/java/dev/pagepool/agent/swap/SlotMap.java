package dev.pagepool.agent.swap;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Where each 4 KiB slot of the swap device lives: nowhere (never written, trimmed, or written as zeros), in the
 * cluster, or in the local disk file. Four bits per slot in an array of longs (a 1 GiB device costs 128 KiB):
 * two for the place, two spare. Lock-free; every change is a CAS. Which operation may change a slot, and in what
 * order, is {@link SlotOrder}'s business.
 */
final class SlotMap {
    static final int NOWHERE = 0;
    static final int CLUSTER = 1;
    static final int DISK = 2;

    private static final int BITS = 4;
    private static final int PER_LONG = 64 / BITS;
    private static final long PLACE_MASK = 0b0011;

    private final AtomicLongArray words;
    private final long slots;

    SlotMap(long slots) {
        if (slots <= 0 || (slots + PER_LONG - 1) / PER_LONG > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot map " + slots + " slots");
        }
        this.slots = slots;
        this.words = new AtomicLongArray((int) ((slots + PER_LONG - 1) / PER_LONG));
    }

    long slots() {
        return slots;
    }

    int place(long slot) {
        return (int) (nibble(slot) & PLACE_MASK);
    }

    /** Records where the slot lives; the caller holds the slot's order (see {@link SlotOrder}). */
    void setPlace(long slot, int place) {
        update(slot, PLACE_MASK, place);
    }

    /** How many slots are in each place: index NOWHERE, CLUSTER, DISK. */
    long[] census() {
        long[] counts = new long[3];
        for (long s = 0; s < slots; s++) {
            counts[place(s)]++;
        }
        return counts;
    }

    private long nibble(long slot) {
        return words.get((int) (slot / PER_LONG)) >>> ((slot % PER_LONG) * BITS);
    }

    private void update(long slot, long mask, long value) {
        int w = (int) (slot / PER_LONG);
        int shift = (int) (slot % PER_LONG) * BITS;
        while (true) {
            long old = words.get(w);
            long updated = (old & ~(mask << shift)) | ((value & mask) << shift);
            if (words.compareAndSet(w, old, updated)) {
                return;
            }
        }
    }
}
