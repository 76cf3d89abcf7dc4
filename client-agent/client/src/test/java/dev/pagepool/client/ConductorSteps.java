package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs a client's control work by hand, as its control thread does in production, while a test waits for what that
 * work brings about (a donor readmitted, an extent copied). The test's clock moves only when the test says so;
 * replies still travel real sockets, so each wait is bounded in real time too.
 */
final class ConductorSteps {
    private static final long LIMIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** The re-replicator's pace, in the test's time: 1 ms lets a quarter of an extent go. */
    private static final Duration PACED_STEP = Duration.ofMillis(1);

    private ConductorSteps() {
    }

    /**
     * Steps {@code client}'s conductor, the clock standing still, until {@code condition} holds. BUSY pauses do not
     * move it either: every request timeout runs on this clock, and a pause the test did not ask for (a frame of the
     * client's own, refused by a donor scripted to refuse) would carry the clock past them.
     */
    static void until(PagePoolClient client, SteppedClock clock, BooleanSupplier condition, String what)
            throws InterruptedException {
        run(client, clock, condition, what, Duration.ZERO, false);
    }

    /**
     * Steps the conductor until {@code condition} holds, moving the clock to the end of each BUSY pause the client
     * waits for, as time would, and at no other time: for a test of BUSY retries on the client's own connections.
     */
    static void untilThroughPauses(PagePoolClient client, SteppedClock clock, BooleanSupplier condition, String what)
            throws InterruptedException {
        run(client, clock, condition, what, Duration.ZERO, true);
    }

    /**
     * Steps the conductor and lets 1 ms pass on the clock each time it finds nothing to do, until {@code condition}
     * holds: for paced work, re-replication, which copies only as fast as time allows.
     */
    static void untilPaced(PagePoolClient client, SteppedClock clock, BooleanSupplier condition, String what)
            throws InterruptedException {
        run(client, clock, condition, what, PACED_STEP, false);
    }

    /**
     * Runs an asynchronous call of {@code client} to its end, stepping the conductor and moving the clock to the end
     * of each BUSY pause it waits for, and returns its result: what a synchronous call does, but with the test's
     * thread free to end those pauses.
     */
    static <T> T call(PagePoolClient client, SteppedClock clock, CompletableFuture<T> call) throws Exception {
        run(client, clock, call::isDone, "the call is answered", Duration.ZERO, true);
        return call.get();
    }

    /** {@code throughPauses}: a BUSY pause the client waits for moves the clock to its end, as time would. */
    private static void run(PagePoolClient client, SteppedClock clock, BooleanSupplier condition, String what,
                            Duration step, boolean throughPauses) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT_NANOS;
        while (true) {
            int work = client.conductor().doWork(clock.nanoTime());
            if (condition.getAsBoolean()) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            if (work == 0) {
                long toPause = throughPauses ? client.conductor().nanosToNextPause(clock.nanoTime()) : Long.MAX_VALUE;
                clock.advance(toPause == Long.MAX_VALUE ? step : Duration.ofNanos(Math.max(toPause, step.toNanos())));
                Thread.sleep(1); // a reply on its way, on a real socket
            }
        }
    }
}
