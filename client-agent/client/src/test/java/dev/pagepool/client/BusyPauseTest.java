package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * A BUSY pause is the conductor's: it ends when the client's clock says so, here a clock the test steps by hand, and
 * the frame goes again from the connection's event loop. The calls made here are asynchronous: a synchronous call on
 * a client run by hand would wait for the test's own thread, the one that steps the conductor.
 */
class BusyPauseTest {
    private final SteppedClock clock = new SteppedClock();

    @Test
    void aFrameAnsweredBusyGoesAgainOnlyOnceItsPauseIsOverOnTheClientsClock() throws Exception {
        try (FakeCluster cluster = new FakeCluster(1)) {
            PagePoolClient client = PagePoolClient.connect(cluster.config(), cluster.guard.vertx(), clock);
            try {
                PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
                FakeDonor busy = cluster.fakes.get(0);
                busy.frameStatus(Opcode.PUT, Status.BUSY);
                CompletableFuture<PageStatus[]> put = client.putBatchAsync(pool, new long[] {0}, new int[] {0},
                    TestPage.of(0, 0, 1), 1);
                awaitReal(() -> busy.requests(Opcode.PUT) >= 1, "the donor is asked the put and answers BUSY");
                for (int i = 0; i < 20; i++) {
                    client.conductor().doWork(clock.nanoTime());
                    Thread.sleep(5); // real time passes; the client's does not
                }
                assertEquals(1, busy.requests(Opcode.PUT), "no frame goes again while the client's clock stands still");
                assertEquals(1, client.pausesForTest().waiting(), "the put answered BUSY waits for its pause");

                clock.advance(Duration.ofNanos(999_999));
                client.conductor().doWork(clock.nanoTime());
                assertEquals(1, client.pausesForTest().waiting(), "the first pause is 1 ms: not over a nanosecond short");
                clock.advance(Duration.ofNanos(1));
                client.conductor().doWork(clock.nanoTime());
                awaitReal(() -> busy.requests(Opcode.PUT) == 2, "the frame went again once 1 ms passed on the client's clock");
                awaitReal(() -> client.pausesForTest().waiting() == 1, "answered BUSY again, it waits for a pause of 2 ms");

                busy.frameStatus(Opcode.PUT, null);
                clock.advance(Duration.ofMillis(1));
                client.conductor().doWork(clock.nanoTime());
                assertEquals(2, busy.requests(Opcode.PUT), "the second pause is twice the first");
                clock.advance(Duration.ofMillis(1));
                client.conductor().doWork(clock.nanoTime());
                assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS)[0], "taken once the donor had room");
                assertEquals(3, busy.requests(Opcode.PUT));
                assertTrue(client.donorUp(0), "BUSY is flow control, not a failure");
            } finally {
                client.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }

    @Test
    void aPauseEndsOnTheEventLoopOfItsConnectionNotOnTheThreadThatStepsTheConductor() throws Exception {
        try (FakeCluster cluster = new FakeCluster(1)) {
            BusyPauses pauses = new BusyPauses(clock, () -> { });
            DonorConnection conn = DonorConnection.open(cluster.guard.vertx(), cluster.fakes.get(0).address(),
                cluster.config(), null, clock, pauses).get(10, TimeUnit.SECONDS);
            try {
                CompletableFuture<String> ended = new CompletableFuture<>();
                cluster.guard.vertx().runOnContext(v -> conn.after(1000)
                    .thenApply(w -> Thread.currentThread().getName())
                    .whenComplete((name, e) -> ended.complete(e == null ? name : "none, it failed: " + e)));
                awaitReal(() -> pauses.waiting() == 1, "the pause waits");
                clock.advance(Duration.ofMillis(1));
                assertEquals(1, pauses.doWork(clock.nanoTime()));
                String thread = ended.get(10, TimeUnit.SECONDS);
                assertTrue(thread.startsWith("vert.x-eventloop-thread"), "the pause ended on " + thread);
            } finally {
                conn.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }

    @Test
    void pausesEndInTheOrderOfTheirDeadlinesAndTheConductorMaySleepUntilTheEarliest() {
        List<Integer> ended = new ArrayList<>();
        Executor here = Runnable::run;
        BusyPauses pauses = new BusyPauses(clock, () -> { });
        long start = clock.nanoTime();
        assertEquals(Long.MAX_VALUE, pauses.nanosToNext(start), "no pause waits: nothing to wake for");
        for (int millis : new int[] {4, 1, 3, 2, 8, 5}) {
            pauses.pause(millis * 1000L, here).thenRun(() -> ended.add(millis));
        }
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), pauses.nanosToNext(start));
        clock.advance(Duration.ofMillis(3));
        assertEquals(3, pauses.doWork(clock.nanoTime()));
        assertEquals(List.of(1, 2, 3), ended);
        assertEquals(TimeUnit.MILLISECONDS.toNanos(1), pauses.nanosToNext(clock.nanoTime()), "the 4 ms pause is next");
        pauses.endAll();
        assertEquals(List.of(1, 2, 3, 4, 5, 8), ended, "a closing client ends every pause, earliest first");
        assertEquals(0, pauses.waiting());
    }

    @Test
    void aPauseAskedForBeforeTheEarliestWakesTheConductorsThread() {
        int[] wakes = {0};
        BusyPauses pauses = new BusyPauses(clock, () -> wakes[0]++);
        pauses.pause(4000, Runnable::run);
        pauses.pause(8000, Runnable::run);
        assertEquals(1, wakes[0], "a later pause does not shorten the conductor's sleep");
        pauses.pause(1000, Runnable::run);
        assertEquals(2, wakes[0], "an earlier one does");
    }

    @Test
    void aPauseThatEndsWhileAnotherDutyRunsIsServedRightAfterThatDutyNotAfterTheRest() {
        BusyPauses pauses = new BusyPauses(clock, () -> { });
        CompletableFuture<Void> pause = pauses.pause(1000, Runnable::run);
        List<String> seen = new ArrayList<>();
        ControlDuty slow = now -> {
            clock.advance(Duration.ofMillis(5)); // slow control work: the pause ends meanwhile
            seen.add("slow duty");
            return 1;
        };
        ControlDuty next = now -> {
            seen.add(pause.isDone() ? "next duty, the pause over" : "next duty, the pause still waiting");
            return 1;
        };
        ClientConductor conductor = new ClientConductor(clock, pauses, slow, next);
        assertFalse(pause.isDone());
        assertEquals(3, conductor.doWork(clock.nanoTime()), "two duties and one pause");
        assertEquals(List.of("slow duty", "next duty, the pause over"), seen);
    }

    /** Waits in real time for what a reply on a real socket brings about, the client's clock standing still. */
    private static void awaitReal(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(1);
        }
    }
}
