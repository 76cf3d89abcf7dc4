package dev.pagepool.node.store;

import java.util.Arrays;

/**
 * The persistent pages that are out on the wire in a HANDBACK frame, each with the token it was sent under.
 *
 * <p>Why a side table: a page may be replaced (a newer put of the same handle) or flushed while its copy
 * travels to the client, and then the client's "I hold it" is about the old version and must not free the new
 * one. The client's version, which persistent pages carry, cannot prove that: it is opaque to the donor and may
 * repeat (a client with no use for versions sends 0 every time), so two puts of a handle can carry the same
 * one. Instead the few pages in flight (at most {@link #CAPACITY_PAGES}) are recorded here, and every removal of
 * a persistent page drops its record. So a record present with the same token proves the entry still holds the
 * very version that was sent; a new put in the same entry (entry ids and slab slots are recycled, so the
 * {@link Location} alone could repeat) finds no record and is kept. Tokens come from a store-wide counter and
 * never repeat.
 *
 * <p>Open addressing with linear probing on entry ids, backward-shift deletion, fixed size: nothing grows and
 * nothing is allocated after construction. Not thread-safe: the store lock guards it.
 */
final class HandbackLedger {
    /** Pages in flight at once across all connections: 64 frames of 64 pages, more than the sender ever keeps out. */
    static final int CAPACITY_PAGES = 4096;
    static final long NO_TOKEN = 0;
    private static final int EMPTY = -1;
    /** Twice the capacity keeps probe runs short at the most the ledger is ever filled (load 0.5). */
    private static final int SLOTS = 2 * CAPACITY_PAGES;

    private final int[] entries = new int[SLOTS];
    private final long[] tokens = new long[SLOTS];
    private int size;

    HandbackLedger() {
        Arrays.fill(entries, EMPTY);
    }

    int size() {
        return size;
    }

    int free() {
        return CAPACITY_PAGES - size;
    }

    /** The token the entry was sent under, or {@link #NO_TOKEN} when it is not in flight. */
    long token(int entry) {
        for (int s = slot(entry); ; s = (s + 1) & (SLOTS - 1)) {
            int e = entries[s];
            if (e == EMPTY) {
                return NO_TOKEN;
            }
            if (e == entry) {
                return tokens[s];
            }
        }
    }

    /** Records an entry that is not in flight yet; the caller checked {@link #free()}. */
    void put(int entry, long token) {
        int s = slot(entry);
        while (entries[s] != EMPTY) {
            s = (s + 1) & (SLOTS - 1);
        }
        entries[s] = entry;
        tokens[s] = token;
        size++;
    }

    /** Drops the entry's record; false if it had none. */
    boolean remove(int entry) {
        int s = slot(entry);
        while (entries[s] != entry) {
            if (entries[s] == EMPTY) {
                return false;
            }
            s = (s + 1) & (SLOTS - 1);
        }
        int hole = s;
        for (int j = (hole + 1) & (SLOTS - 1); entries[j] != EMPTY; j = (j + 1) & (SLOTS - 1)) {
            int home = slot(entries[j]);
            // Move j back into the hole only if the hole lies on j's probe path (between home and j, cyclically).
            if (((j - home) & (SLOTS - 1)) >= ((j - hole) & (SLOTS - 1))) {
                entries[hole] = entries[j];
                tokens[hole] = tokens[j];
                hole = j;
            }
        }
        entries[hole] = EMPTY;
        tokens[hole] = NO_TOKEN;
        size--;
        return true;
    }

    private static int slot(int entry) {
        return (int) Hashing.mix(entry) & (SLOTS - 1);
    }
}
