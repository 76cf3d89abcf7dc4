package dev.pagepool.client;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * The BUSY pauses of the client's event-loop connections ({@link BusyRetry}), as the {@link ClientConductor}'s first
 * duty: a frame a donor answered BUSY goes again once its pause is over on the client's clock, so a test steps a
 * BUSY retry by hand as it steps every other deadline.
 *
 * <p>A page fault may be waiting behind a pause, so the conductor serves this duty before each of its other duties
 * and after the last ({@link ClientConductor#doWork}), and its thread parks no longer than the earliest pause still
 * to end ({@link #nanosToNext}). Ending a pause runs nothing on the conductor's thread: the pause's future is
 * completed on the event loop it was asked from, which sends the frame again, as a Vert.x timer did before.
 *
 * <p>The pauses wait in a binary heap by deadline, in arrays that grow by doubling and are never shrunk: asking
 * for a pause allocates only its future. A monitor guards the heap and is held for the in-memory work alone.
 */
final class BusyPauses implements ControlDuty {
    private static final int INITIAL_CAPACITY = 64;

    private final Runnable wake;
    private long[] deadlines = new long[INITIAL_CAPACITY];
    private CompletableFuture<?>[] futures = new CompletableFuture<?>[INITIAL_CAPACITY];
    private Executor[] loops = new Executor[INITIAL_CAPACITY];
    private int size;
    /** The earliest deadline waiting, or {@link Long#MAX_VALUE} when none: read without the monitor. */
    private volatile long earliest = Long.MAX_VALUE;
    private final NanoClock clock;

    /** {@code wake} unparks the thread running the conductor when a pause shorter than its sleep is asked. */
    BusyPauses(NanoClock clock, Runnable wake) {
        this.clock = clock;
        this.wake = wake;
    }

    /**
     * A pause of {@code micros} on the client's clock, from now; the future completes on {@code loop} once it is
     * over. Never waits.
     */
    CompletableFuture<Void> pause(long micros, Executor loop) {
        CompletableFuture<Void> over = new CompletableFuture<>();
        long deadline = clock.nanoTime() + TimeUnit.MICROSECONDS.toNanos(micros);
        boolean first;
        synchronized (this) {
            if (size == deadlines.length) {
                grow();
            }
            int i = size++;
            deadlines[i] = deadline;
            futures[i] = over;
            loops[i] = loop;
            first = siftUp(i) == 0;
            earliest = deadlines[0];
        }
        if (first) {
            wake.run();
        }
        return over;
    }

    /** Ends every pause due at {@code nowNanos}; returns how many ended. */
    @Override
    public int doWork(long nowNanos) {
        return end(nowNanos, false);
    }

    private int end(long nowNanos, boolean all) {
        int ended = 0;
        while (all || (earliest != Long.MAX_VALUE && earliest - nowNanos <= 0)) {
            CompletableFuture<?> over;
            Executor loop;
            synchronized (this) {
                if (size == 0 || (!all && deadlines[0] - nowNanos > 0)) {
                    return ended;
                }
                over = futures[0];
                loop = loops[0];
                removeFirst();
            }
            resume(over, loop);
            ended++;
        }
        return ended;
    }

    private static void resume(CompletableFuture<?> over, Executor loop) {
        try {
            loop.execute(() -> over.complete(null));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            over.complete(null); // the loop is shut down: the frame goes again here, and fails on its closed connection
        }
    }

    /** How long until the next pause ends at {@code nowNanos}: 0 if one is due, {@link Long#MAX_VALUE} if none waits. */
    long nanosToNext(long nowNanos) {
        long next = earliest;
        return next == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, next - nowNanos);
    }

    /** Pauses waiting. */
    synchronized int waiting() {
        return size;
    }

    /**
     * Ends every pause now, the client closing: each frame goes again at once and fails on its closed connection,
     * rather than waiting for a conductor that no longer runs.
     */
    void endAll() {
        end(0, true);
    }

    private void removeFirst() {
        int last = --size;
        move(last, 0);
        futures[last] = null;
        loops[last] = null;
        if (size > 0) {
            siftDown(0);
        }
        earliest = size == 0 ? Long.MAX_VALUE : deadlines[0];
    }

    /** Returns where the entry at {@code i} ends up. */
    private int siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (deadlines[parent] - deadlines[i] <= 0) {
                return i;
            }
            swap(i, parent);
            i = parent;
        }
        return i;
    }

    private void siftDown(int i) {
        while (true) {
            int left = 2 * i + 1;
            if (left >= size) {
                return;
            }
            int right = left + 1;
            int child = right < size && deadlines[right] - deadlines[left] < 0 ? right : left;
            if (deadlines[i] - deadlines[child] <= 0) {
                return;
            }
            swap(i, child);
            i = child;
        }
    }

    private void swap(int a, int b) {
        long d = deadlines[a];
        CompletableFuture<?> f = futures[a];
        Executor l = loops[a];
        move(b, a);
        deadlines[b] = d;
        futures[b] = f;
        loops[b] = l;
    }

    private void move(int from, int to) {
        deadlines[to] = deadlines[from];
        futures[to] = futures[from];
        loops[to] = loops[from];
    }

    private void grow() {
        int capacity = deadlines.length * 2;
        deadlines = Arrays.copyOf(deadlines, capacity);
        futures = Arrays.copyOf(futures, capacity);
        loops = Arrays.copyOf(loops, capacity);
    }
}
