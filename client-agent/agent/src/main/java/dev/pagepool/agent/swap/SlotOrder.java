package dev.pagepool.agent.swap;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One order per slot: writes, trims and hand-backs of a slot run one after the other, in the order they arrived.
 *
 * <p>NBD lets a client send overlapping requests, and with replicas two writes of one slot in flight at once could
 * reach the copies in different orders, or one write's undo flush could land after the other write. So each
 * operation enters the slots it touches and starts only once every earlier operation on them is done. Only slots
 * with an operation in flight have an entry; an idle device costs nothing. Never waits: an operation that must
 * follow another is chained on it. Requests register all their slots one request at a time, so two requests that
 * share slots are in the same order on each of them and cannot wait on each other.
 */
final class SlotOrder {
    private static final CompletableFuture<Void> NOTHING_BEFORE = CompletableFuture.completedFuture(null);

    /** The last operation that entered each busy slot; removed when it is done, unless another entered after it. */
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> last;
    /**
     * Set while one thread registers requests. A request must take its place on all its slots before any other
     * request takes a place on any of them: two requests from two event loops that registered slot by slot could
     * each be first on some shared slots, and then each would wait for the other for ever. A lock would give that,
     * but an event loop must not wait on a lock that a preempted thread holds; so a request that finds another
     * registering is queued and registered by that thread, and its caller goes on.
     */
    private final AtomicBoolean registering = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Queued> waitingToRegister = new ConcurrentLinkedQueue<>();

    /** A request queued for registration, and what it returns to its caller: done once it may start. */
    private record Queued(long first, int count, CompletableFuture<Void> done, CompletableFuture<Void> before) {
    }

    SlotOrder() {
        this(new ConcurrentHashMap<>());
    }

    /** With the map of busy slots given, so a test can step through the registrations. */
    SlotOrder(ConcurrentHashMap<Long, CompletableFuture<Void>> last) {
        this.last = last;
    }

    /**
     * Enters slots {@code [first, first + count)} for an operation that completes {@code done} when it is over,
     * whatever its outcome. Returns what it must wait for: every earlier operation on those slots.
     */
    CompletableFuture<Void> enter(long first, int count, CompletableFuture<Void> done) {
        if (registering.compareAndSet(false, true)) {
            CompletableFuture<Void> before;
            try {
                before = register(first, count, done);
            } finally {
                registering.set(false);
            }
            registerQueued();
            return before;
        }
        Queued queued = new Queued(first, count, done, new CompletableFuture<>());
        waitingToRegister.add(queued);
        registerQueued();
        return queued.before();
    }

    /**
     * Registers the requests queued while another registered, in queue order, unless someone else is registering
     * now: then that one finds them once it is done, since it looks again after letting go.
     */
    private void registerQueued() {
        while (!waitingToRegister.isEmpty() && registering.compareAndSet(false, true)) {
            try {
                for (Queued q; (q = waitingToRegister.poll()) != null; ) {
                    CompletableFuture<Void> before = q.before();
                    register(q.first(), q.count(), q.done()).whenComplete((v, e) -> before.complete(null));
                }
            } finally {
                registering.set(false);
            }
        }
    }

    /** Puts the request last on each of its slots; only one thread at a time (see {@link #registering}). */
    private CompletableFuture<Void> register(long first, int count, CompletableFuture<Void> done) {
        CompletableFuture<?>[] before = null;
        int waiting = 0;
        for (int j = 0; j < count; j++) {
            CompletableFuture<Void> previous = last.put(first + j, done);
            if (previous != null && !previous.isDone()) {
                before = before == null ? new CompletableFuture<?>[count] : before;
                before[waiting++] = previous;
            }
        }
        done.whenComplete((v, e) -> {
            for (int j = 0; j < count; j++) {
                last.remove(first + j, done);
            }
        });
        if (waiting == 0) {
            return NOTHING_BEFORE;
        }
        return CompletableFuture.allOf(java.util.Arrays.copyOf(before, waiting));
    }

    /**
     * Takes the slot for an operation that must not wait (a hand-back, on the hand-back thread): true if nothing
     * was in flight, and then nothing else starts on the slot until {@link #release}.
     */
    boolean claim(long slot, CompletableFuture<Void> claim) {
        CompletableFuture<Void> previous = last.putIfAbsent(slot, claim);
        return previous == null;
    }

    void release(long slot, CompletableFuture<Void> claim) {
        claim.complete(null);
        last.remove(slot, claim);
    }

    /** Completes once every operation on the slot that entered so far is done. */
    CompletableFuture<Void> settled(long slot) {
        CompletableFuture<Void> f = last.get(slot);
        return f == null ? NOTHING_BEFORE : f;
    }

    boolean busy(long slot) {
        CompletableFuture<Void> f = last.get(slot);
        return f != null && !f.isDone();
    }

    /** Slots with an operation in flight. */
    int busySlots() {
        return last.size();
    }
}
