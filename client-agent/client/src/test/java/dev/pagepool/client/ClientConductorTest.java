package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
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
 * The client's control work, stepped by hand as Aeron's DriverConductorTest steps its driver: the test calls
 * {@code doWork} with a time it chooses, scripts what each fake donor answers and when, and looks at the client
 * between two steps. No control thread runs.
 */
class ClientConductorTest {
    private FakeCluster cluster;
    private EventLoopGuard guard;
    private final SteppedClock clock = new SteppedClock();
    private PagePoolClient client;
    private ClientConductor conductor;

    @BeforeEach
    void start() throws Exception {
        cluster = new FakeCluster(3);
        guard = cluster.guard;
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        cluster.close();
    }

    /** A client of the first {@code donors} fakes, its control work run by the test. */
    private void connect(int donors) {
        List<InetSocketAddress> nodes = cluster.nodes().subList(0, donors);
        client = PagePoolClient.connect(new ClientConfig(nodes, "", 31, 1, 64, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
        conductor = client.conductor();
        for (InetSocketAddress node : nodes) {
            client.reportFree(node, 1L << 30); // loads come from the cluster: no STATS poll of its own
        }
    }

    private FakeDonor fakeOf(int donor) {
        return cluster.fakeOf(client, donor);
    }

    /** The suspect donor {@code d} answers again, all but its fence, and the readmission sends the fence. */
    private FakeDonor returnsWithItsFenceHeld(int d) throws InterruptedException {
        FakeDonor returning = fakeOf(d);
        returning.script((h, b) -> h.opcode() == Opcode.PING ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        assertEquals(0, conductor.doWork(clock.nanoTime()), "no attempt is due before the reconnect pause");
        clock.advance(Duration.ofMillis(200));
        await(() -> returning.heldCount() == 2, "the readmission opened a connection and sent its fence");
        return returning;
    }

    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.until(client, clock, condition, what);
    }

    /** Makes the donor holding page (0, 0) of {@code pool} suspect: a put to it goes unanswered past its timeout. */
    private int suspectHolderOf(PoolRef pool) throws Exception {
        assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {0}, new int[] {0}, TestPage.of(0, 0, 1), 1)[0]);
        int d = pool.extents.replica(pool.extents.find(0, 0), 0);
        FakeDonor frozen = fakeOf(d);
        frozen.script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        client.putBatchAsync(pool, new long[] {0}, new int[] {1}, TestPage.of(0, 1, 1), 1);
        await(() -> frozen.heldCount() == 1, "the donor holds the put");
        clock.advance(Duration.ofSeconds(3));
        await(() -> client.donorsForTest().link(d).isSuspect(), "the donor that left the put unanswered is suspect");
        return d;
    }

    /** Two donors and a pool; the one holding its first page is made suspect, then does {@code action} to all. */
    private int suspectOfTwoThatNowRepliesBy(FakeDonor.Action action) throws Exception {
        connect(2);
        int d = suspectHolderOf(client.newPool(PoolSpec.privatePool(true), 1));
        fakeOf(d).script((h, b) -> action);
        return d;
    }

    @Test
    void readmissionIsStepsOfTheConductorAndHoldsNoMonitorWhileItsFenceIsOut() throws Exception {
        connect(2);
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int d = suspectHolderOf(pool);
        int other = 1 - d;
        // It answers again, except its fence: the readmission must wait for that reply, and only it.
        FakeDonor returning = returnsWithItsFenceHeld(d);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, conductor.doWork(clock.nanoTime()), "a step waiting for a reply does nothing and returns");
        }
        assertTrue(client.donorsForTest().link(d).isSuspect(), "not in service before its fence is answered");
        // Meanwhile the client goes on: a pool is made (it took the admission monitor for its whole round trip
        // before), and a page is put on the donor in service, from another thread.
        CompletableFuture<PoolRef> made = CompletableFuture.supplyAsync(() -> client.newPool(PoolSpec.privatePool(true), 1));
        PoolRef meanwhile = made.get(10, TimeUnit.SECONDS);
        assertEquals(PoolRef.NO_POOL, meanwhile.idOn(d), "made on the donors in service only");
        assertNotEquals(PoolRef.NO_POOL, meanwhile.idOn(other));
        assertEquals(PageStatus.OK, CompletableFuture.supplyAsync(() -> client.putBatch(meanwhile, new long[] {7},
            new int[] {0}, TestPage.of(7, 0, 1), 1)[0]).get(10, TimeUnit.SECONDS));
        int madeOnReturning = returning.requests(Opcode.NEW_POOL);

        // The fence is answered: the next steps check the pools, make the new one there too, and serve again.
        returning.script((h, b) -> FakeDonor.Action.SERVE);
        returning.releaseHeldNewestFirst(); // the fence is answered, then the late put lands behind it
        await(() -> client.counters().donorsReattached() == 1, "the donor is back in service");
        assertTrue(client.donorUp(d));
        assertNotEquals(PoolRef.NO_POOL, meanwhile.idOn(d), "the pool made during the readmission exists there too");
        assertEquals(madeOnReturning + 1, returning.requests(Opcode.NEW_POOL));
        assertEquals(1, returning.fencedWrites(), "the put it held was refused: it came after the fence");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReadmissionWhoseConnectionsCloseBetweenItsOpenAndItsNextStepEndsAndTheNextOneReadmits() throws Exception {
        int d = suspectOfTwoThatNowRepliesBy(FakeDonor.Action.SERVE);
        assertEquals(0, conductor.doWork(clock.nanoTime()), "no attempt is due before the reconnect pause");
        clock.advance(Duration.ofMillis(200));
        conductor.doWork(clock.nanoTime()); // the readmission opens the donor's connections
        DonorLink link = client.donorsForTest().link(d);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (link.slot(0) == null) {
            assertTrue(System.nanoTime() < deadline, "the readmission's open was answered");
            Thread.sleep(1);
        }
        Thread.sleep(50); // the open's future completes once its connections are in place
        // The connections close (the donor closes them, or the client gives them up) before the next step.
        link.closeConnections();
        conductor.doWork(clock.nanoTime());
        assertTrue(link.isSuspect(), "not in service on connections that are gone");
        clock.advance(Duration.ofSeconds(1)); // past the pause before the next attempt
        await(() -> client.counters().donorsReattached() == 1, "a later readmission opens again and reattaches");
        assertTrue(client.donorUp(d));
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPoolDestroyedWhileADonorIsReadmittedIsNotLeftOnIt() throws Exception {
        connect(2);
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        PoolRef doomed = client.newPool(PoolSpec.privatePool(true), 1);
        int d = suspectHolderOf(pool);
        FakeDonor returning = returnsWithItsFenceHeld(d);
        CompletableFuture.runAsync(() -> client.destroyPool(doomed)).get(10, TimeUnit.SECONDS);
        int destroyedThere = returning.requests(Opcode.DESTROY_POOL);
        returning.script((h, b) -> FakeDonor.Action.SERVE);
        returning.releaseHeld();
        await(() -> client.donorUp(d), "the donor is back in service");
        assertEquals(PoolRef.NO_POOL, doomed.idOn(d), "a destroyed pool is not made again on the returning donor");
        assertEquals(destroyedThere, returning.requests(Opcode.DESTROY_POOL), "nor destroyed twice");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void theWatcherTakesASuspectDonorForGoneOnlyWhenAStepFindsTheStallBoundPassed() throws Exception {
        int d = suspectOfTwoThatNowRepliesBy(FakeDonor.Action.HOLD); // silent: not even a HELLO
        clock.advance(ClientConfig.DEFAULT_STALL_TIMEOUT.plusSeconds(1));
        assertTrue(client.donorsForTest().link(d).isSuspect(), "past the bound, but no step has looked");
        conductor.doWork(clock.nanoTime());
        assertFalse(client.donorsForTest().link(d).isSuspect());
        assertFalse(client.donorUp(d));
        assertEquals(1, client.counters().donorsDown(), "taken for gone by the step that saw the bound pass");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void reReplicationCopiesNoFasterThanItsPaceOnTheTimeItIsGiven() throws Exception {
        connect(3);
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
        List<CompletableFuture<PageStatus[]>> puts = new ArrayList<>();
        for (int e = 0; e < 256; e++) {
            int index = e * ExtentMap.EXTENT_PAGES;
            puts.add(client.putBatchAsync(pool, new long[] {0}, new int[] {index}, TestPage.of(0, index, 1), 1));
        }
        for (CompletableFuture<PageStatus[]> put : puts) {
            assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS)[0]);
        }
        conductor.doWork(clock.nanoTime()); // a look that finds nothing to copy: the pace counts from here
        client.donorLeft(fakeOf(pool.extents.replica(pool.extents.find(0, 0), 0)).address());
        long since = Duration.ofMillis(100).toNanos();
        int paced = allowedAfter(since);
        assertTrue(client.underReplicatedExtents() > paced + 1, "extents lack a copy: " + client.underReplicatedExtents());
        assertEquals(0, conductor.doWork(clock.nanoTime()), "not looked again before the idle pause ends");

        clock.advance(Duration.ofNanos(since));
        ConductorSteps.until(client, clock, () -> client.counters().pagesReReplicated() >= paced, "the pace's extents are copied");
        stepWithTheClockStill();
        assertEquals(paced, client.counters().pagesReReplicated(), "no more while the clock stands still");
        clock.advance(Duration.ofMillis(1));
        int next = allowedAfter(since + Duration.ofMillis(1).toNanos());
        assertTrue(next > paced);
        ConductorSteps.until(client, clock, () -> client.counters().pagesReReplicated() >= next, "1 ms more of extents");
        stepWithTheClockStill();
        assertEquals(next, client.counters().pagesReReplicated(), "1 ms of the clock is 1 ms of copying");
        guard.assertNoEventLoopBlocked();
    }

    /** Extents (one page each here) the re-replicator may have started {@code nanos} after its pace began. */
    private static int allowedAfter(long nanos) {
        long perExtent = (long) ExtentMap.EXTENT_PAGES * dev.pagepool.protocol.Frame.PAGE_BYTES * 1_000_000_000L
            / ReReplicator.BYTES_PER_SECOND;
        return (int) ((nanos + ReReplicator.PACE_SLACK_NANOS) / perExtent) + 1;
    }

    private void stepWithTheClockStill() throws InterruptedException {
        for (int i = 0; i < 20; i++) {
            conductor.doWork(clock.nanoTime());
            Thread.sleep(1);
        }
    }
}
