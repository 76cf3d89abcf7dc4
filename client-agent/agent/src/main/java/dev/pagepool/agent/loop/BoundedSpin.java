package dev.pagepool.agent.loop;

import io.netty.channel.SelectStrategy;
import io.netty.util.IntSupplier;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.function.LongSupplier;

/**
 * An event loop that has run out of work polls its sockets for a short while before it sleeps in {@code epoll_wait}.
 *
 * <p>Why: at queue depth 1 a page fault crosses the agent twice (the NBD request in, the donor's reply back), and
 * each crossing wakes a sleeping thread. On a virtual machine that wake-up (an inter-processor interrupt, a halted
 * vCPU scheduled back in) costs tens of microseconds, more than the agent's own work on the request. A donor
 * answers within the spin, so the reply is met by a running thread. Linux's socket busy polling
 * ({@code net.core.busy_poll}, 50 us suggested) is the same trade, which loopback sockets cannot use.
 *
 * <p>The spin is bounded: an idle loop spins once, for at most {@code spinNanos}, then sleeps as before. A task
 * handed to the loop during the spin ends it at once: the loop does not arm its wake-up while it polls, so the
 * spin itself has to look at the task queue, or the task would wait for the spin to run out.
 */
final class BoundedSpin implements SelectStrategy {
    private final long spinNanos;
    private final LongSupplier clock;
    private final java.util.function.IntSupplier pendingTasks;

    BoundedSpin(long spinNanos, LongSupplier clock, java.util.function.IntSupplier pendingTasks) {
        this.spinNanos = spinNanos;
        this.clock = clock;
        this.pendingTasks = pendingTasks;
    }

    /** For the event loop that calls it: the strategy is made in the loop's constructor, before the loop exists. */
    static BoundedSpin ofCallingLoop(long spinNanos) {
        return new BoundedSpin(spinNanos, System::nanoTime,
            () -> ((SingleThreadEventExecutor) ThreadExecutorMap.currentExecutor()).pendingTasks());
    }

    @Override
    public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
        if (hasTasks) {
            return selectNow.get(); // the loop's own rule: never sleep with tasks queued
        }
        long deadline = clock.getAsLong() + spinNanos;
        do {
            int ready = selectNow.get();
            if (ready > 0) {
                return ready;
            }
            if (pendingTasks.getAsInt() > 0) {
                return 0; // no I/O, but a task: the loop runs it
            }
            Thread.onSpinWait();
        } while (clock.getAsLong() - deadline < 0);
        return SELECT;
    }
}
