package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The replication windows of the client, each scripted against fake donors on real sockets: which donor answers
 * what, in which order, and when its deadline passes on the test's clock. Every test also checks that no event
 * loop was blocked.
 */
class ReplicationRacesTest {
    private EventLoopGuard guard;
    private final List<FakeDonor> fakes = new ArrayList<>();
    private final SteppedClock clock = new SteppedClock();
    private PagePoolClient client;

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        for (int i = 0; i < 3; i++) {
            fakes.add(new FakeDonor(guard.vertx(), "fake-" + i));
        }
        guard.warmUp(fakes.get(0).address());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        for (FakeDonor fake : fakes) {
            fake.close();
        }
        guard.close();
    }

    private PagePoolClient connect(int donors) {
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (int i = 0; i < donors; i++) {
            nodes.add(fakes.get(i).address());
        }
        client = PagePoolClient.connect(new ClientConfig(nodes, "", 11, 1, 64, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
        return client;
    }

    /** Version {@code version} of page (0, index): every test's pages are of object 0. */
    private static byte[] page(int index, int version) {
        return TestPage.of(0, index, version);
    }

    /** The fake donors holding a copy of page (0, index) of the pool, by their index in the client. */
    private List<Integer> holders(PoolRef pool, int index) {
        List<Integer> found = new ArrayList<>();
        for (int d = 0; d < client.donorCount(); d++) {
            if (pool.idOn(d) != PoolRef.NO_POOL && fakeOf(d).holds(pool.idOn(d), 0, index)) {
                found.add(d);
            }
        }
        return found;
    }

    private FakeDonor fakeOf(int donor) {
        String name = client.donorName(donor);
        return fakes.get(Integer.parseInt(name.substring(name.indexOf('-') + 1)));
    }

    /** Waits, running the client's control work by hand, the clock standing still. */
    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.until(client, clock, condition, what);
    }

    /** Waits for re-replication, which copies at its pace: time passes while it runs. */
    private void awaitCopies(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.untilPaced(client, clock, condition, what);
    }

    @Test
    void putsInFlightToADonorThatTimesOutGoToTheSurvivorAndTheSuspectCopyIsRepairedWhenItAnswers() throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        int frozen = holders(pool, 0).get(0);
        int survivor = holders(pool, 0).get(1);
        fakeOf(frozen).script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        // Two puts of the extent in flight: the first to time out makes the donor suspect, and closing its
        // connection fails the second, whose retry must not be routed back to the frozen donor.
        CompletableFuture<PageStatus[]> first = c.putBatchAsync(pool, new long[] {0}, new int[] {1}, page(1, 1), 1);
        CompletableFuture<PageStatus[]> second = c.putBatchAsync(pool, new long[] {0}, new int[] {2}, page(2, 1), 1);
        await(() -> fakeOf(frozen).heldCount() == 2, "the frozen donor holds both puts");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(PageStatus.OK, first.get(10, TimeUnit.SECONDS)[0], "stored on the copy that answers");
        assertEquals(PageStatus.OK, second.get(10, TimeUnit.SECONDS)[0], "stored on the copy that answers");
        assertFalse(c.donorUp(frozen));
        assertEquals(1, c.counters().donorsSuspect());
        int e = pool.extents.find(0, 0);
        assertTrue(pool.extents.holds(e, frozen), "a stall is not a loss: the suspect copy stays on the map");
        assertEquals(0, c.counters().extentsLost());
        // The late puts land on the frozen donor only after the client fenced it: they change nothing.
        fakeOf(frozen).script((h, b) -> FakeDonor.Action.SERVE);
        clock.advance(Duration.ofMillis(200));
        await(() -> c.donorUp(frozen), "the donor answers again and is re-attached, not wiped");
        fakeOf(frozen).releaseHeld();
        await(() -> fakeOf(frozen).fencedWrites() == 2, "the donor refused both late writes");
        awaitCopies(() -> Arrays.equals(page(1, 1), fakeOf(frozen).page(pool.idOn(frozen), 0, 1))
            && Arrays.equals(page(2, 1), fakeOf(frozen).page(pool.idOn(frozen), 0, 2)),
            "the re-replicator copied the pages written meanwhile to the returning copy");
        awaitCopies(() -> c.underReplicatedExtents() == 0, "no copy holds a stale page any more");
        assertArrayEquals(page(0, 1), fakeOf(frozen).page(pool.idOn(frozen), 0, 0), "the page from before was kept");
        assertEquals(1, c.counters().donorsReattached());
        for (int index = 0; index <= 2; index++) {
            assertTrue(holders(pool, index).containsAll(List.of(frozen, survivor)), "two copies of page " + index);
        }
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aDonorThatDiesWhileNothingIsAskedOfItGoesOutOfServiceAtOnceAndItsExtentsAreCopied() throws Exception {
        PagePoolClient c = connect(3);
        // Loads come from the cluster, as for a client that follows it, so no STATS poll of the client's own finds
        // the dead donor.
        for (FakeDonor fake : fakes) {
            c.reportFree(fake.address(), 1L << 30);
        }
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {4}, page(4, 1), 1)[0]);
        int dead = holders(pool, 4).get(0);
        // The process is gone: its connections close and its port refuses. No request is made, the clock does not
        // move, and the cluster has not said so yet: the closed connections alone must tell the client.
        fakeOf(dead).close();
        await(() -> !c.donorUp(dead), "the dead donor is out of service");
        awaitCopies(() -> c.underReplicatedExtents() == 0, "the extent has its two copies again");
        List<Integer> copies = new ArrayList<>(holders(pool, 4));
        copies.remove(Integer.valueOf(dead));
        assertEquals(2, copies.size(), "two copies on the survivors: " + copies);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {4}, 1, false, dst)[0]);
        assertArrayEquals(page(4, 1), dst);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aFlushAnsweredBusyToTheEndNeverLeavesThePageReadable() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        int[] indexes = putOnePagePerExtent(c, pool);
        FakeDonor busy = fakes.get(0);
        busy.frameStatus(Opcode.FLUSH_PAGE, Status.BUSY);
        ConductorSteps.call(c, clock, c.flushPagesAsync(pool, new long[indexes.length], indexes, indexes.length));
        for (int index : indexes) {
            assertTrue(busy.holds(pool.idOn(0), 0, index), "the busy donor still has page " + index);
        }
        busy.frameStatus(Opcode.FLUSH_PAGE, null);
        // The copies the flush did not reach are forgotten, and copied again from the other: a filling copy gets
        // a FLUSH of every page the source misses, so the busy donor's pages go before its copies count again.
        awaitCopies(() -> c.underReplicatedExtents() == 0, "every extent has its two copies again");
        // Reads of different extents take turns between the copies, and which copy an extent reads first was
        // chosen at placement: read every extent, and make sure the donor that kept the pages was asked.
        int asked = busy.requests(Opcode.GET);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int index : indexes) {
            assertNotEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0],
                "flushed page " + index + " is never read back");
        }
        assertTrue(busy.requests(Opcode.GET) > asked, "reads of " + indexes.length + " extents never asked the busy donor");
        guard.assertNoEventLoopBlocked();
    }

    /** Puts page (0, index) version 1 at the first index of each of 32 extents, and returns those indexes. */
    private static int[] putOnePagePerExtent(PagePoolClient c, PoolRef pool) {
        int[] indexes = new int[32];
        for (int extent = 0; extent < indexes.length; extent++) {
            indexes[extent] = extent * ExtentMap.EXTENT_PAGES;
            assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {indexes[extent]},
                page(indexes[extent], 1), 1)[0]);
        }
        return indexes;
    }

    private static FakeDonor damagesEveryPageItSends(FakeDonor fake) {
        fake.script((h, b) -> h.opcode() == Opcode.GET ? FakeDonor.Action.CORRUPT : FakeDonor.Action.SERVE);
        return fake;
    }

    @Test
    void aPageThatFailsItsChecksumIsNeverReturnedAndTheOtherCopyServesIt() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        int[] indexes = putOnePagePerExtent(c, pool);
        FakeDonor damaging = damagesEveryPageItSends(fakes.get(1));
        // Copies take turns by extent: reading every extent asks the damaging donor for some of them.
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int index : indexes) {
            assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0]);
            assertArrayEquals(page(index, 1), dst, "page " + index + " as put, from the copy that kept it whole");
        }
        assertTrue(damaging.requests(Opcode.GET) > 0, "reads of " + indexes.length + " extents never asked the damaging donor");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPageThatFailsItsChecksumOnItsOnlyCopyIsLostAndNoByteOfItReachesTheCaller() throws Exception {
        PagePoolClient c = connect(1);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 1);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {6}, page(6, 1), 1)[0]);
        FakeDonor damaging = damagesEveryPageItSends(fakes.get(0));
        byte[] untouched = new byte[Frame.PAGE_BYTES];
        Arrays.fill(untouched, (byte) 0x5A);
        for (int attempt = 0; attempt < 2; attempt++) {
            byte[] dst = untouched.clone();
            assertEquals(PageStatus.LOST, c.getBatch(pool, new long[] {0}, new int[] {6}, 1, false, dst)[0],
                "the only copy sent a damaged page: the page is lost, not read");
            assertArrayEquals(untouched, dst, "no byte of the damaged page reaches the caller");
        }
        assertTrue(damaging.requests(Opcode.GET) > 0, "the donor was asked");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPutOneCopyRefusesWithBusyIsRejectedAndLeavesNoOlderVersionReadable() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {9}, page(9, 1), 1)[0]);
        fakes.get(1).frameStatus(Opcode.PUT, Status.BUSY);
        assertEquals(PageStatus.REJECTED,
            ConductorSteps.call(c, clock, c.putBatchAsync(pool, new long[] {0}, new int[] {9}, page(9, 2), 1))[0]);
        fakes.get(1).frameStatus(Opcode.PUT, null);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int attempt = 0; attempt < 8; attempt++) {
            PageStatus got = c.getBatch(pool, new long[] {0}, new int[] {9}, 1, false, dst)[0];
            assertFalse(got == PageStatus.OK && Arrays.equals(page(9, 1), dst), "put-put-get: the older version is gone");
            assertNotEquals(PageStatus.OK, got, "a rejected put leaves nothing readable");
        }
        assertEquals(List.of(), holders(pool, 9), "no copy keeps either version");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPutInternalOnOneCopyIsRejectedAndTheCopiesAgree() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {3}, page(3, 1), 1)[0]);
        fakes.get(0).frameStatus(Opcode.PUT, Status.INTERNAL);
        assertEquals(PageStatus.REJECTED, c.putBatch(pool, new long[] {0}, new int[] {3}, page(3, 2), 1)[0]);
        fakes.get(0).frameStatus(Opcode.PUT, null);
        assertEquals(List.of(), holders(pool, 3));
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReadThatOneCopyRefusesIsServedByTheOtherCopy() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        int[] indexes = putOnePagePerExtent(c, pool);
        fakes.get(0).frameStatus(Opcode.GET, Status.INVALID);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int index : indexes) {
            assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0]);
            assertArrayEquals(page(index, 1), dst);
        }
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReadThatOneCopyAnswersNoSuchPoolIsServedByTheOtherAndThatDonorGoesOutOfService() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        // Pages in many extents: reads of different extents take turns between the copies. Which copy an extent
        // reads first depends on its map entry and on the placement order, so the reads go on until the donor
        // that lost the pool has been asked.
        int[] indexes = putOnePagePerExtent(c, pool);
        fakes.get(1).frameStatus(Opcode.GET, Status.NO_SUCH_POOL);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int e = 0; e < indexes.length && fakes.get(1).requests(Opcode.GET) == 0; e++) {
            assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {indexes[e]}, 1, false, dst)[0]);
            assertArrayEquals(page(indexes[e], 1), dst);
        }
        assertTrue(fakes.get(1).requests(Opcode.GET) > 0, "reads of " + indexes.length + " extents never took turns");
        int restarted = c.donorName(0).equals("fake-1") ? 0 : 1;
        assertFalse(c.donorUp(restarted), "a donor without the pool is out of service");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void donorsThatLeaveGiveTheirIndexToDonorsThatJoin() throws Exception {
        PagePoolClient c = connect(1);
        for (int i = 0; i < 3 * DonorSet.MAX_DONORS; i++) {
            InetSocketAddress address = InetSocketAddress.createUnresolved("10.0.0." + (i % 250), 20000 + i);
            c.addDonor(address, 1L << 30);
            c.donorLeft(address);
        }
        assertTrue(c.donorCount() <= 2, "indexes are reused: " + c.donorCount());
        assertTrue(c.donorUp(0), "the donor that stayed is untouched");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReconnectThatFindsASharedPoolUnderAnotherIdTakesTheDonorOutOfService() throws Exception {
        PagePoolClient c = connect(1);
        PoolRef shared = c.newPool(PoolSpec.sharedPool(false, java.util.UUID.randomUUID()), 1);
        int before = shared.idOn(0);
        assertEquals(PageStatus.OK, c.putBatch(shared, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        // The donor restarts: its pool ids start elsewhere, so the same UUID now names another id.
        fakes.get(0).restart(before + 10);
        await(() -> !fakes.get(0).holds(before, 0, 0), "the restart");
        List<Integer> getPools = new java.util.concurrent.CopyOnWriteArrayList<>();
        fakes.get(0).script((h, b) -> {
            if (h.opcode() == Opcode.GET) {
                getPools.add(dev.pagepool.protocol.Bodies.pool(b));
            }
            return FakeDonor.Action.SERVE;
        });
        byte[] dst = new byte[Frame.PAGE_BYTES];
        await(() -> !fakes.get(0).holds(before, 0, 0), "restart");
        PageStatus got = c.getBatch(shared, new long[] {0}, new int[] {0}, 1, false, dst)[0];
        assertNotEquals(PageStatus.OK, got);
        assertEquals(List.of(), getPools, "no request under the stale id reached the restarted donor");
        assertFalse(c.donorUp(0));
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aSharedPoolOnAReadmittedDonorNeverServesTheVersionFromBeforeItsOutage() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef shared = c.newPool(PoolSpec.sharedPool(false, java.util.UUID.randomUUID()), 1);
        int owner = SharedPlacement.donorOf(c.donorsForTest().links(), c.donorCount(), 0, 0);
        assertEquals(PageStatus.OK, c.putBatch(shared, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        // The owner freezes in the middle of the next put of the page, and is taken out of service.
        fakeOf(owner).script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        CompletableFuture<PageStatus[]> put = c.putBatchAsync(shared, new long[] {0}, new int[] {0}, page(0, 2), 1);
        await(() -> fakeOf(owner).heldCount() == 1, "the owner holds the put");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(PageStatus.REJECTED, put.get(10, TimeUnit.SECONDS)[0], "its extents are not written elsewhere");
        assertFalse(c.donorUp(owner));
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.MISS, c.getBatch(shared, new long[] {0}, new int[] {0}, 1, false, dst)[0]);
        // It thaws, still holding the old version, and is readmitted.
        fakeOf(owner).script((h, b) -> FakeDonor.Action.SERVE);
        clock.advance(Duration.ofSeconds(10));
        await(() -> c.donorUp(owner), "the owner is readmitted");
        PageStatus got = c.getBatch(shared, new long[] {0}, new int[] {0}, 1, false, dst)[0];
        assertFalse(got == PageStatus.OK && Arrays.equals(page(0, 1), dst), "put-put-get: the pre-outage version is gone");
        assertEquals(PageStatus.MISS, got);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aStallOfEveryCopyShorterThanTheBoundLosesNothingAndTheWriteWaitsForIt() throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        List<Integer> both = holders(pool, 0);
        for (int d : both) {
            fakeOf(d).script((h, b) -> FakeDonor.Action.HOLD); // frozen: nothing is answered, not even a HELLO
        }
        CompletableFuture<PageStatus[]> put = c.putBatchAsync(pool, new long[] {0}, new int[] {1}, page(1, 1), 1);
        await(() -> both.stream().allMatch(d -> fakeOf(d).heldCount() == 1), "both copies hold the put");
        clock.advance(Duration.ofSeconds(3));
        await(() -> c.counters().donorsSuspect() == 2, "both donors are suspect");
        byte[] dst = new byte[Frame.PAGE_BYTES];
        CompletableFuture<PageStatus[]> read = c.getBatchAsync(pool, new long[] {0}, new int[] {0}, 1, false, dst);
        clock.advance(Duration.ofSeconds(20)); // still within the 30 s bound
        Thread.sleep(300);
        assertFalse(put.isDone(), "a write whose every copy is silent waits for one of them");
        assertFalse(read.isDone(), "a read whose every copy is silent waits for one of them");
        for (int d : both) {
            fakeOf(d).script((h, b) -> FakeDonor.Action.SERVE);
            fakeOf(d).releaseHeld(); // thawed: what it received meanwhile is served, in order
        }
        clock.advance(Duration.ofMillis(200));
        await(() -> put.isDone() && read.isDone(), "the copies answer again and are readmitted");
        assertEquals(PageStatus.OK, put.get(10, TimeUnit.SECONDS)[0], "the write lands once the copies answer");
        assertEquals(PageStatus.OK, read.get(10, TimeUnit.SECONDS)[0], "the read is served once the copies answer");
        assertArrayEquals(page(0, 1), dst);
        assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {1}, 1, false, dst)[0]);
        assertArrayEquals(page(1, 1), dst);
        assertEquals(0, c.counters().extentsLost());
        assertEquals(0, c.counters().pagesLost());
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aGetAnsweredBusyByEveryCopyIsAskedAgainAndNeverDropsACopy() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        for (FakeDonor fake : fakes.subList(0, 2)) {
            fake.frameStatus(Opcode.GET, Status.BUSY);
        }
        byte[] dst = new byte[Frame.PAGE_BYTES];
        CompletableFuture<PageStatus[]> read = c.getBatchAsync(pool, new long[] {0}, new int[] {0}, 1, false, dst);
        // BUSY changed nothing on the donor: past the frame's own retries, the read waits rather than fail or
        // give the page up as lost.
        ConductorSteps.untilThroughPauses(c, clock, () -> c.counters().stallWaits() > 0,
            "the read waits for a copy to take it");
        assertFalse(read.isDone());
        for (FakeDonor fake : fakes.subList(0, 2)) {
            fake.frameStatus(Opcode.GET, null);
        }
        assertEquals(PageStatus.OK, read.get(10, TimeUnit.SECONDS)[0]);
        assertArrayEquals(page(0, 1), dst);
        int e = pool.extents.find(0, 0);
        assertEquals(2, pool.extents.completeCount(e), "no copy was dropped");
        assertEquals(2, c.upCount());
        assertEquals(0, c.counters().pagesLost());
        guard.assertNoEventLoopBlocked();
    }

    /**
     * Puts page 0 on both copies, then freezes their PUTs while a put of page 1 is on its way: both donors are
     * suspect when this returns that put, waiting. {@code both} gets the copies' donors.
     */
    private CompletableFuture<PageStatus[]> bothCopiesSilent(PagePoolClient c, PoolRef pool, List<Integer> both)
            throws Exception {
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        both.addAll(holders(pool, 0));
        for (int d : both) {
            fakeOf(d).script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        }
        CompletableFuture<PageStatus[]> put = c.putBatchAsync(pool, new long[] {0}, new int[] {1}, page(1, 1), 1);
        await(() -> both.stream().allMatch(d -> fakeOf(d).heldCount() == 1), "both copies hold the put");
        clock.advance(Duration.ofSeconds(3));
        await(() -> c.counters().donorsSuspect() == 2, "both donors are suspect");
        return put;
    }

    /** A page acknowledged is read back as put; a page refused is never read. */
    private void assertReadBackOrRefused(PagePoolClient c, PoolRef pool, int index, PageStatus written) {
        if (written == PageStatus.OK) {
            assertReadsBack(c, pool, index, 1);
            return;
        }
        byte[] dst = new byte[Frame.PAGE_BYTES];
        PageStatus again = c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0];
        assertTrue(again == PageStatus.LOST || again == PageStatus.MISS, "a refused write is never read: " + again);
    }

    @Test
    void aStallOfEveryCopyLongerThanTheBoundLosesTheExtentWhichIsReReplicatedOnceWrittenAgain() throws Exception {
        stallOfEveryCopyLongerThanTheBound(true);
    }

    @Test
    void aWriteThatSeesTheBoundPassBeforeTheWatcherIsRefusedAndTheExtentIsLostAllTheSame() throws Exception {
        stallOfEveryCopyLongerThanTheBound(false);
    }

    /**
     * Both copies of an extent silent past the bound while a put of it waits. {@code watcherFirst}: the watcher
     * takes them for gone before the put looks again (its copies may go one at a time between two looks), else the
     * put sees its bound pass first.
     */
    private void stallOfEveryCopyLongerThanTheBound(boolean watcherFirst) throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        List<Integer> both = new ArrayList<>();
        CompletableFuture<PageStatus[]> put = bothCopiesSilent(c, pool, both);
        clock.advance(Duration.ofSeconds(31));
        PageStatus written;
        if (watcherFirst) {
            await(() -> c.counters().donorsDown() == 2, "silent past the bound: taken for gone");
            // Either the write saw the bound pass and was refused, or it was placed afresh on the third donor.
            written = put.get(10, TimeUnit.SECONDS)[0];
            assertTrue(written == PageStatus.REJECTED || written == PageStatus.OK, "settled: " + written);
        } else {
            written = put.get(10, TimeUnit.SECONDS)[0];
            assertEquals(PageStatus.REJECTED, written, "its bound passed with every copy silent");
            await(() -> c.counters().donorsDown() == 2, "silent past the bound: taken for gone");
        }
        int e = pool.extents.find(0, 0);
        assertTrue(pool.extents.isLost(e));
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.LOST, c.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, dst)[0]);
        assertReadBackOrRefused(c, pool, 1, written);
        // The frozen donors come back; the extent is written again, and must get its two copies back.
        for (int d : both) {
            fakeOf(d).script((h, b) -> FakeDonor.Action.SERVE);
        }
        clock.advance(Duration.ofSeconds(10));
        await(() -> c.upCount() == 3, "the donors are readmitted");
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {2}, page(2, 1), 1)[0]);
        awaitCopies(() -> pool.extents.completeCount(e) == 2, "the re-replicator restored the second copy");
        assertEquals(0, c.underReplicatedExtents());
        assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {2}, 1, false, dst)[0]);
        assertArrayEquals(page(2, 1), dst);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPutWaitingOnCopiesTakenForGoneIsPlacedAfreshAndReadsBackAsPut() throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        CompletableFuture<PageStatus[]> first = bothCopiesSilent(c, pool, new ArrayList<>());
        // A put that begins later than the donors went silent is still within its own bound when theirs has passed:
        // it waits, the watcher takes every copy for gone, and only then does the put look again.
        clock.advance(Duration.ofSeconds(20));
        CompletableFuture<PageStatus[]> second = c.putBatchAsync(pool, new long[] {0}, new int[] {2}, page(2, 1), 1);
        assertFalse(second.isDone(), "a write whose every copy is silent waits for one of them");
        clock.advance(Duration.ofSeconds(11));
        await(() -> c.counters().donorsDown() == 2, "silent past the bound: taken for gone");
        int e = pool.extents.find(0, 0);
        assertTrue(pool.extents.isLost(e));
        assertEquals(PageStatus.OK, second.get(10, TimeUnit.SECONDS)[0], "placed afresh on the donor left");
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {2}, 1, false, dst)[0],
            "an acknowledged put is read back");
        assertArrayEquals(page(2, 1), dst);
        // The page written before the stall went with the copies: lost, never a miss nor other data.
        assertEquals(PageStatus.LOST, c.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, dst)[0]);
        PageStatus written = first.get(10, TimeUnit.SECONDS)[0];
        assertTrue(written == PageStatus.REJECTED || written == PageStatus.OK, "settled: " + written);
        assertReadBackOrRefused(c, pool, 1, written);
        guard.assertNoEventLoopBlocked();
    }

    /**
     * Brings extent 0 to one copy taken for gone and the other suspect, its bound not passed: page 0 is on both
     * copies, page 1 only on the one now suspect (written while the other was silent), and a put of page 2 waits
     * on the suspect copy. Returns that put; {@code copies} gets the gone copy's donor, then the suspect one's.
     */
    private CompletableFuture<PageStatus[]> oneCopyGoneTheOtherSuspect(PagePoolClient c, PoolRef pool, List<Integer> copies)
            throws Exception {
        // Loads come from the cluster: no STATS poll of the client's own is in flight to the third donor when the
        // clock jumps, which would make it suspect too.
        for (FakeDonor fake : fakes) {
            c.reportFree(fake.address(), 1L << 30);
        }
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        copies.addAll(holders(pool, 0));
        int gone = copies.get(0);
        int suspect = copies.get(1);
        // Frozen, each in turn: nothing is answered, not even the watcher's attempts to re-attach it.
        fakeOf(gone).script((h, b) -> FakeDonor.Action.HOLD);
        CompletableFuture<PageStatus[]> first = c.putBatchAsync(pool, new long[] {0}, new int[] {1}, page(1, 1), 1);
        await(() -> fakeOf(gone).heldCount() == 1, "the first copy holds the put");
        clock.advance(Duration.ofSeconds(3));
        assertEquals(PageStatus.OK, first.get(10, TimeUnit.SECONDS)[0], "stored on the copy that answers");
        clock.advance(Duration.ofSeconds(20));
        fakeOf(suspect).script((h, b) -> FakeDonor.Action.HOLD);
        CompletableFuture<PageStatus[]> second = c.putBatchAsync(pool, new long[] {0}, new int[] {2}, page(2, 1), 1);
        await(() -> fakeOf(suspect).heldCount() >= 1, "the second copy holds the put");
        clock.advance(Duration.ofSeconds(3));
        await(() -> c.counters().donorsSuspect() == 2, "the second copy is suspect too");
        // The first went silent 31 s ago, the second 8 s ago: only the first is past the bound.
        clock.advance(Duration.ofSeconds(8));
        // Time passes while the watcher ticks: a tick that finds an attempt to re-attach the donor under way leaves
        // the donor to it, and the next tick, once that attempt failed, takes it for gone.
        ConductorSteps.untilPaced(c, clock, () -> c.counters().donorsDown() == 1, "the first copy is taken for gone");
        assertFalse(c.donorUp(suspect));
        assertFalse(pool.extents.isLost(pool.extents.find(0, 0)), "the suspect copy still holds the extent");
        return second;
    }

    private void assertReadsBack(PagePoolClient c, PoolRef pool, int index, int version) {
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0],
            "page " + index + " was acknowledged");
        assertArrayEquals(page(index, version), dst, "page " + index + " as put");
    }

    @Test
    void aPutWhileTheOnlyCompleteCopyIsSuspectIsReadBackOnceThatCopyAnswers() throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        List<Integer> copies = new ArrayList<>();
        CompletableFuture<PageStatus[]> second = oneCopyGoneTheOtherSuspect(c, pool, copies);
        int suspect = copies.get(1);
        // The extent is short of a copy: the third donor gets a new one, which has none of the older pages yet.
        CompletableFuture<PageStatus[]> third = c.putBatchAsync(pool, new long[] {0}, new int[] {3}, page(3, 1), 1);
        fakeOf(suspect).script((h, b) -> FakeDonor.Action.SERVE);
        fakeOf(suspect).releaseHeld(); // thawed: what it received meanwhile is served, in order
        clock.advance(Duration.ofMillis(200));
        await(() -> c.donorUp(suspect), "the suspect copy answers again and is re-attached");
        assertEquals(PageStatus.OK, second.get(10, TimeUnit.SECONDS)[0]);
        assertEquals(PageStatus.OK, third.get(10, TimeUnit.SECONDS)[0]);
        for (int index = 0; index <= 3; index++) {
            assertReadsBack(c, pool, index, 1);
        }
        awaitCopies(() -> c.underReplicatedExtents() == 0, "the extent has its two copies again");
        for (int index = 0; index <= 3; index++) {
            assertReadsBack(c, pool, index, 1);
        }
        assertEquals(0, c.counters().pagesLost());
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPutWhileTheOnlyCompleteCopyIsSuspectIsReadBackWhenThatCopyDiesToo() throws Exception {
        PagePoolClient c = connect(3);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        List<Integer> copies = new ArrayList<>();
        CompletableFuture<PageStatus[]> second = oneCopyGoneTheOtherSuspect(c, pool, copies);
        CompletableFuture<PageStatus[]> third = c.putBatchAsync(pool, new long[] {0}, new int[] {3}, page(3, 1), 1);
        // The suspect copy's process dies: the extent loses its last complete copy, and the puts waiting on it are
        // placed afresh on the donor left.
        fakeOf(copies.get(1)).close();
        ConductorSteps.untilPaced(c, clock, () -> c.counters().donorsDown() == 2,
            "the second copy is taken for gone: the extent is lost");
        assertTrue(pool.extents.isLost(pool.extents.find(0, 0)));
        assertEquals(PageStatus.OK, second.get(10, TimeUnit.SECONDS)[0], "placed afresh on the donor left");
        assertEquals(PageStatus.OK, third.get(10, TimeUnit.SECONDS)[0], "placed afresh on the donor left");
        assertReadsBack(c, pool, 2, 1);
        assertReadsBack(c, pool, 3, 1);
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int index = 0; index <= 1; index++) {
            assertEquals(PageStatus.LOST, c.getBatch(pool, new long[] {0}, new int[] {index}, 1, false, dst)[0],
                "page " + index + " went with the copies");
        }
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPoolThatNoCopyHasIsTheCallersMistakeAndNoDonorGoesOutOfService() throws Exception {
        PagePoolClient c = connect(2);
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, c.putBatch(pool, new long[] {0}, new int[] {0}, page(0, 1), 1)[0]);
        // Both donors say the pool is not there, as they do to a client using another client's pool.
        for (FakeDonor fake : fakes.subList(0, 2)) {
            fake.frameStatus(Opcode.GET, Status.NO_SUCH_POOL);
            fake.frameStatus(Opcode.PUT, Status.NO_SUCH_POOL);
        }
        byte[] dst = new byte[Frame.PAGE_BYTES];
        org.junit.jupiter.api.Assertions.assertThrows(NoSuchPoolException.class,
            () -> c.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, dst));
        org.junit.jupiter.api.Assertions.assertThrows(NoSuchPoolException.class,
            () -> c.putBatch(pool, new long[] {0}, new int[] {1}, page(1, 1), 1));
        assertEquals(2, c.upCount(), "no donor is blamed for the caller's pool");
        for (FakeDonor fake : fakes.subList(0, 2)) {
            fake.frameStatus(Opcode.GET, null);
            fake.frameStatus(Opcode.PUT, null);
        }
        c.destroyPool(pool);
        org.junit.jupiter.api.Assertions.assertThrows(NoSuchPoolException.class,
            () -> c.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, dst), "a destroyed pool is gone");
        assertEquals(2, c.upCount());
        guard.assertNoEventLoopBlocked();
    }
}
