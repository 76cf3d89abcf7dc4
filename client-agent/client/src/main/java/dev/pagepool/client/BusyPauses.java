package dev.pagepool.client;

import java.util.PriorityQueue;
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
 * <p>The pauses wait in a priority queue by deadline (a pause is a frame a donor refused: rare next to the pages
 * that flow, so its record and future are no hot-path allocation). A monitor guards the queue and is held for the
 * in-memory work alone.
 */
final class BusyPauses implements ControlDuty {
    /** A frame's pause: it goes again on {@code loop} once the client's clock reaches {@code deadline}. */
    private record Pause(long deadline, CompletableFuture<Void> over, Executor loop) {
    }

    private final Runnable wake;
    private final PriorityQueue<Pause> waiting =
        new PriorityQueue<>((a, b) -> Long.compare(a.deadline - b.deadline, 0)); // wrap-safe, as nanoTime asks
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
        Pause pause = new Pause(clock.nanoTime() + TimeUnit.MICROSECONDS.toNanos(micros), new CompletableFuture<>(),
            loop);
        boolean first;
        synchronized (this) {
            waiting.add(pause);
            first = waiting.peek() == pause;
            earliest = waiting.peek().deadline;
        }
        if (first) {
            wake.run();
        }
        return pause.over;
    }

    /** Ends every pause due at {@code nowNanos}; returns how many ended. */
    @Override
    public int doWork(long nowNanos) {
        return end(nowNanos, false);
    }

    private int end(long nowNanos, boolean all) {
        int ended = 0;
        while (all || (earliest != Long.MAX_VALUE && earliest - nowNanos <= 0)) {
            Pause due;
            synchronized (this) {
                due = waiting.peek();
                if (due == null || (!all && due.deadline - nowNanos > 0)) {
                    return ended;
                }
                waiting.poll();
                Pause next = waiting.peek();
                earliest = next == null ? Long.MAX_VALUE : next.deadline;
            }
            resume(due);
            ended++;
        }
        return ended;
    }

    private static void resume(Pause pause) {
        try {
            pause.loop.execute(() -> pause.over.complete(null));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pause.over.complete(null); // the loop is shut down: the frame goes again here, and fails on its closed connection
        }
    }

    /** How long until the next pause ends at {@code nowNanos}: 0 if one is due, {@link Long#MAX_VALUE} if none waits. */
    long nanosToNext(long nowNanos) {
        long next = earliest;
        return next == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, next - nowNanos);
    }

    /** Pauses waiting. */
    synchronized int waiting() {
        return waiting.size();
    }

    /**
     * Ends every pause now, the client closing: each frame goes again at once and fails on its closed connection,
     * rather than waiting for a conductor that no longer runs.
     */
    void endAll() {
        end(0, true);
    }
}
