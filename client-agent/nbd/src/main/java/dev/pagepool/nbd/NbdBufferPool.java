package dev.pagepool.nbd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's whole budget of request buffers, allocated once at start: fixed-size slabs of whole blocks.
 * A request takes the slabs it needs and gives them back when its reply is written; nothing is allocated per
 * request, and the memory held by requests in flight can never exceed the reserve.
 *
 * <p>A request that finds too few free slabs waits in a first-come queue (its connection stops reading
 * meanwhile): strict order, so a large request is not starved by a stream of small ones. Callers from several
 * event loops share one pool; the lock guards only bookkeeping and is never held while anyone waits.
 */
final class NbdBufferPool {
    private record Waiter(int count, byte[][] dst, Runnable granted) {
    }

    private final int slabBytes;
    private final int capacity;
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    NbdBufferPool(long reserveBytes, int slabBytes) {
        if (slabBytes <= 0 || slabBytes % BlockDevice.BLOCK_BYTES != 0) {
            throw new IllegalArgumentException("slab size must be a positive multiple of 4096: " + slabBytes);
        }
        long slabs = reserveBytes / slabBytes;
        if (slabs < 2 || slabs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("buffer reserve of " + reserveBytes + " bytes is not 2.."
                + Integer.MAX_VALUE + " slabs of " + slabBytes);
        }
        this.slabBytes = slabBytes;
        this.capacity = (int) slabs;
        for (int i = 0; i < capacity; i++) {
            free.push(new byte[slabBytes]);
        }
    }

    int slabBytes() {
        return slabBytes;
    }

    /** Slabs in the reserve: the most one request can ever take. */
    int capacity() {
        return capacity;
    }

    synchronized int available() {
        return free.size();
    }

    /** Slabs needed to hold {@code bytes}. */
    int slabsFor(long bytes) {
        return (int) ((bytes + slabBytes - 1) / slabBytes);
    }

    /**
     * Puts {@code count} slabs into {@code dst[0 .. count)} and returns true; or, if they are not free now,
     * queues the request and returns false, and later fills {@code dst} and runs {@code granted} on the thread
     * that gave slabs back.
     */
    boolean take(int count, byte[][] dst, Runnable granted) {
        if (count > capacity) {
            throw new IllegalArgumentException(count + " slabs asked of a reserve of " + capacity);
        }
        synchronized (this) {
            if (waiters.isEmpty() && free.size() >= count) {
                fill(count, dst);
                return true;
            }
            waiters.add(new Waiter(count, dst, granted));
            return false;
        }
    }

    /** Returns {@code src[0 .. count)} to the reserve and clears those references. */
    void give(byte[][] src, int count) {
        List<Runnable> grants = null;
        synchronized (this) {
            for (int i = 0; i < count; i++) {
                free.push(src[i]);
                src[i] = null;
            }
            while (!waiters.isEmpty() && free.size() >= waiters.peek().count) {
                Waiter w = waiters.poll();
                fill(w.count, w.dst);
                if (grants == null) {
                    grants = new ArrayList<>(2);
                }
                grants.add(w.granted);
            }
        }
        if (grants != null) {
            grants.forEach(Runnable::run);
        }
    }

    private void fill(int count, byte[][] dst) {
        for (int i = 0; i < count; i++) {
            dst[i] = free.pop();
        }
    }
}
