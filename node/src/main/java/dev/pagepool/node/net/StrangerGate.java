package dev.pagepool.node.net;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts connections that have not finished the handshake, across every event loop, and turns new ones away
 * above a cap that is separate from {@code max-connections}: however many strangers connect, the cluster's own
 * clients still find room, and strangers never hold more than the cap's small handshake buffers.
 */
final class StrangerGate {
    private final AtomicInteger strangers = new AtomicInteger();
    private final int max;

    StrangerGate(int max) {
        this.max = max;
    }

    /** Admits one more stranger, or says no; an admitted one must {@link #leave} exactly once. */
    boolean tryEnter() {
        while (true) {
            int now = strangers.get();
            if (now >= max) {
                return false;
            }
            if (strangers.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    void leave() {
        strangers.decrementAndGet();
    }

    int strangers() {
        return strangers.get();
    }

    int max() {
        return max;
    }
}
