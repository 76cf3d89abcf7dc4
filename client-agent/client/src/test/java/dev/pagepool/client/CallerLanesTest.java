package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Synchronous calls on the caller's own connections ({@link CallerLanes}), scripted against fake donors: the call
 * goes out and comes back on the caller's thread, and what the event-loop connections guarantee holds there too:
 * an overdue reply or a donor leaving service sends the page to another donor, BUSY is retried.
 */
class CallerLanesTest {
    private EventLoopGuard guard;
    private final List<FakeDonor> fakes = new ArrayList<>();
    private final SteppedClock clock = new SteppedClock();
    private PagePoolClient client;
    /** The application thread: lanes are a thread's own, so every call of a test is made on this one. */
    private final java.util.concurrent.ExecutorService caller = java.util.concurrent.Executors.newSingleThreadExecutor();

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        for (int i = 0; i < 2; i++) {
            fakes.add(new FakeDonor(guard.vertx(), "fake-" + i));
        }
        guard.warmUp(fakes.get(0).address());
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (FakeDonor fake : fakes) {
            nodes.add(fake.address());
        }
        client = PagePoolClient.connect(new ClientConfig(nodes, "", 21, 1, 64, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
    }

    @AfterEach
    void stop() throws Exception {
        caller.shutdownNow();
        client.close();
        for (FakeDonor fake : fakes) {
            fake.close();
        }
        guard.close();
    }

    private FakeDonor fakeOf(int donor) {
        String name = client.donorName(donor);
        return fakes.get(Integer.parseInt(name.substring(name.indexOf('-') + 1)));
    }

    /** The client's index of the donor holding page (object, index) of the pool, or -1. */
    private int holder(PoolRef pool, long object, int index) {
        for (int d = 0; d < client.donorCount(); d++) {
            if (pool.idOn(d) != PoolRef.NO_POOL && fakeOf(d).holds(pool.idOn(d), object, index)) {
                return d;
            }
        }
        return -1;
    }

    private <T> CompletableFuture<T> onCaller(java.util.function.Supplier<T> call) {
        return CompletableFuture.supplyAsync(call, caller);
    }

    private <T> T call(java.util.function.Supplier<T> call) throws Exception {
        return onCaller(call).get(10, TimeUnit.SECONDS);
    }

    /** Waits, running the client's control work by hand, the clock standing still. */
    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.until(client, clock, condition, what);
    }

    /** A page of a fresh extent, put and read back until this thread has a lane to the donor that holds it. */
    private int warmLaneTo(PoolRef pool, long object) throws Exception {
        assertEquals(PageStatus.OK, call(() -> client.put(pool, object, 0, TestPage.of(object, 0, 1))));
        int d = holder(pool, object, 0);
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, call(() -> client.get(pool, object, 0, false, read)));
        assertEquals(PageStatus.OK, call(() -> client.get(pool, object, 0, false, read)));
        assertTrue(fakeOf(d).callsOnlyRequests(Opcode.GET) > 0, "the thread has its own connection to the donor");
        return d;
    }

    @Test
    void callsOfAnApplicationThreadGoOutAndComeBackOnItsOwnConnection() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int d = warmLaneTo(pool, 1);
        FakeDonor fake = fakeOf(d);
        int puts = fake.requests(Opcode.PUT);
        int lanePuts = fake.callsOnlyRequests(Opcode.PUT);
        for (int i = 1; i <= 20; i++) {
            int index = i;
            assertEquals(PageStatus.OK, call(() -> client.put(pool, 1, index, TestPage.of(1, index, 1))));
        }
        byte[] read = new byte[Frame.PAGE_BYTES];
        for (int i = 1; i <= 20; i++) {
            int index = i;
            assertEquals(PageStatus.OK, call(() -> client.get(pool, 1, index, false, read)));
            assertArrayEquals(TestPage.of(1, i, 1), read, "page " + i);
        }
        assertEquals(20, fake.requests(Opcode.PUT) - puts, "one frame per put");
        assertEquals(20, fake.callsOnlyRequests(Opcode.PUT) - lanePuts, "every put on the caller's own connection");
        assertEquals(1, fake.callsOnlyRequests(Opcode.HELLO), "the connection said HELLO as a calls-only one, once");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReplyOverdueOnTheCallersConnectionMakesTheDonorSuspectAndItsLateWriteIsFencedOff() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int d = warmLaneTo(pool, 2);
        FakeDonor frozen = fakeOf(d);
        int frozenPool = pool.idOn(d);
        java.util.concurrent.atomic.AtomicInteger lanePuts = new java.util.concurrent.atomic.AtomicInteger();
        frozen.script((h, b) -> h.opcode() == Opcode.PUT && FakeDonor.onCallsOnly() && lanePuts.getAndIncrement() == 0
            ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        byte[] late = TestPage.of(2, 1, 1);
        CompletableFuture<PageStatus> put = onCaller(() -> client.put(pool, 2, 1, late));
        await(() -> frozen.heldCount() == 1, "the frozen donor holds the put");
        clock.advance(Duration.ofSeconds(3));
        await(() -> client.counters().donorsSuspect() == 1, "a donor that left a request unanswered is suspect");
        assertFalse(put.isDone(), "the page's only copy is on the silent donor: the put waits for it");
        clock.advance(Duration.ofMillis(200));
        await(put::isDone, "the donor answers again and is readmitted");
        assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS), "stored once the donor answers again");
        assertEquals(d, holder(pool, 2, 1), "a stall is not a loss: the copy was kept, not moved");
        assertEquals(1, client.counters().donorsReattached());
        // A newer version is acknowledged; then the held put is applied, late, on the connection the client gave
        // up: a copy older than the last acknowledged write, which must never be read.
        byte[] newer = TestPage.of(2, 1, 2);
        assertEquals(PageStatus.OK, call(() -> client.put(pool, 2, 1, newer)));
        frozen.releaseHeld();
        await(() -> frozen.fencedWrites() == 1, "the donor refused the late write: the client had fenced it");
        assertArrayEquals(newer, frozen.page(frozenPool, 2, 1), "the donor's copy still holds the newer version");
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, call(() -> client.get(pool, 2, 1, false, read)));
        assertArrayEquals(newer, read, "the newer version, never the late copy");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aDonorThatLeavesWhileTheCallerWaitsOnItFailsThePageOverAtOnce() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int d = warmLaneTo(pool, 3);
        FakeDonor leaving = fakeOf(d);
        leaving.script((h, b) -> h.opcode() == Opcode.PUT && FakeDonor.onCallsOnly()
            ? FakeDonor.Action.DELAY_REPLY : FakeDonor.Action.SERVE);
        CompletableFuture<PageStatus> put = onCaller(() -> client.put(pool, 3, 1, TestPage.of(3, 1, 1)));
        await(() -> leaving.heldCount() == 1, "the donor stored the page and its reply is on the way");
        client.donorLeft(leaving.address());
        // No clock step: the caller's read is failed by the donor's removal, not by a timeout.
        assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS), "placed again on the donor still in service");
        int other = holder(pool, 3, 1);
        assertTrue(other >= 0 && other != d, "the page is on the other donor");
        leaving.releaseHeld();
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, call(() -> client.get(pool, 3, 1, false, read)));
        assertArrayEquals(TestPage.of(3, 1, 1), read);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aBusyDonorIsAskedAgainOnTheCallersConnectionUntilItTakesThePage() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int d = warmLaneTo(pool, 4);
        FakeDonor busy = fakeOf(d);
        int lanePuts = busy.callsOnlyRequests(Opcode.PUT);
        int puts = busy.requests(Opcode.PUT);
        busy.frameStatus(Opcode.PUT, Status.BUSY);
        CompletableFuture<PageStatus> put = onCaller(() -> client.put(pool, 4, 1, TestPage.of(4, 1, 1)));
        await(() -> busy.callsOnlyRequests(Opcode.PUT) >= lanePuts + 3, "the donor answered BUSY three times");
        busy.frameStatus(Opcode.PUT, null);
        assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS));
        assertEquals(busy.requests(Opcode.PUT) - puts, busy.callsOnlyRequests(Opcode.PUT) - lanePuts,
            "every attempt went on the caller's own connection");
        assertTrue(client.donorUp(d), "BUSY is flow control, not a failure");
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, call(() -> client.get(pool, 4, 1, false, read)));
        assertArrayEquals(TestPage.of(4, 1, 1), read);
        guard.assertNoEventLoopBlocked();
    }
}
