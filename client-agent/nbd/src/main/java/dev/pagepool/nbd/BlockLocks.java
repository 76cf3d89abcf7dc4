package dev.pagepool.nbd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps writes to the same blocks from interleaving with a read-modify-write. Two 512-byte writes into one
 * 4 KiB block may be in flight together; each reads the block, patches its sector and writes the block back,
 * so unserialized the second would write back the first's stale sector. Likewise a whole-block write landing
 * between a read-modify-write's read and write would be silently undone.
 *
 * <p>Holds are block ranges: exclusive for an operation with a partial edge block (a read-modify-write),
 * shared otherwise, since whole-block writes do not read what they replace. Grants are first come, first
 * served among conflicting holds, which keeps a connection's overlapping writes in arrival order. Waiting is
 * a future, never a blocked thread; the monitor guards only the bookkeeping.
 */
final class BlockLocks {
    /** A granted or pending hold; give it back with {@link #release}. */
    static final class Hold {
        private final long first;
        private final long last;
        private final boolean exclusive;
        private final CompletableFuture<Hold> granted = new CompletableFuture<>();

        private Hold(long first, long last, boolean exclusive) {
            this.first = first;
            this.last = last;
            this.exclusive = exclusive;
        }

        /** Completes once the hold is granted. */
        CompletableFuture<Hold> granted() {
            return granted;
        }

        private boolean conflicts(Hold other) {
            return (exclusive || other.exclusive) && first <= other.last && other.first <= last;
        }
    }

    private final List<Hold> active = new ArrayList<>();
    private final ArrayDeque<Hold> waiting = new ArrayDeque<>();

    /** Asks for blocks {@code [first, last]}; the hold's future completes when no conflicting hold is ahead. */
    Hold acquire(long first, long last, boolean exclusive) {
        Hold hold = new Hold(first, last, exclusive);
        boolean now;
        synchronized (this) {
            now = !conflictsWithAny(hold, active) && !conflictsWithAny(hold, waiting);
            if (now) {
                active.add(hold);
            } else {
                waiting.add(hold);
            }
        }
        if (now) {
            hold.granted.complete(hold);
        }
        return hold;
    }

    void release(Hold hold) {
        List<Hold> grants = null;
        synchronized (this) {
            if (!active.remove(hold)) {
                throw new IllegalStateException("hold not active");
            }
            List<Hold> stillWaiting = waiting.isEmpty() ? List.of() : new ArrayList<>();
            for (Iterator<Hold> it = waiting.iterator(); it.hasNext(); ) {
                Hold w = it.next();
                if (!conflictsWithAny(w, active) && !conflictsWithAny(w, stillWaiting)) {
                    it.remove();
                    active.add(w);
                    if (grants == null) {
                        grants = new ArrayList<>(2);
                    }
                    grants.add(w);
                } else {
                    stillWaiting.add(w);
                }
            }
        }
        if (grants != null) {
            for (Hold g : grants) {
                g.granted.complete(g);
            }
        }
    }

    /** Holds granted or waiting; for tests and statistics. */
    synchronized int size() {
        return active.size() + waiting.size();
    }

    private static boolean conflictsWithAny(Hold hold, Iterable<Hold> holds) {
        for (Hold h : holds) {
            if (hold.conflicts(h)) {
                return true;
            }
        }
        return false;
    }
}
