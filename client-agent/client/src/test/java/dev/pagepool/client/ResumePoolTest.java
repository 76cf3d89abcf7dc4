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
import java.nio.ByteBuffer;
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
 * A process that dies leaves its pool's bookkeeping in memory it does not own (the agent's mapped state file); a
 * client started again on it resumes the pool: same donors, same copies, fenced and checked before a read.
 */
class ResumePoolTest {
    private static final long CLIENT_ID = 42;
    private static final int EXTENTS = 8;
    private static final int PAGES = 3 * ExtentMap.EXTENT_PAGES;
    private EventLoopGuard guard;
    private final List<FakeDonor> fakes = new ArrayList<>();
    private final List<PagePoolClient> clients = new ArrayList<>();
    private final SteppedClock clock = new SteppedClock();
    /** The memory the pool's bookkeeping lives in: what outlives the first client's process. */
    private final ByteBuffer region = ByteBuffer.allocateDirect((int) PoolMemory.bytesFor(EXTENTS));

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
        for (PagePoolClient c : clients) {
            c.close();
        }
        for (FakeDonor fake : fakes) {
            fake.close();
        }
        guard.close();
    }

    private PagePoolClient connect() {
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (FakeDonor fake : fakes) {
            nodes.add(fake.address());
        }
        PagePoolClient c = PagePoolClient.connect(new ClientConfig(nodes, "", CLIENT_ID, 1, 64, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
        clients.add(c);
        return c;
    }

    /** Waits, running the control work of the last client made by hand, the clock standing still. */
    private void await(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.until(clients.get(clients.size() - 1), clock, condition, what);
    }

    /** Waits for re-replication, which copies at its pace: time passes while it runs. */
    private void awaitCopies(BooleanSupplier condition, String what) throws InterruptedException {
        ConductorSteps.untilPaced(clients.get(clients.size() - 1), clock, condition, what);
    }

    private static void putAll(PagePoolClient c, PoolRef pool, int version) {
        for (int i = 0; i < PAGES; i++) {
            assertEquals(PageStatus.OK, c.putAsync(pool, 0, i, TestPage.of(0, i, version), 0, version).join());
        }
    }

    private static void assertReads(PagePoolClient c, PoolRef pool, int version) {
        byte[] dst = new byte[Frame.PAGE_BYTES];
        for (int i = 0; i < PAGES; i++) {
            assertEquals(PageStatus.OK, c.getBatch(pool, new long[] {0}, new int[] {i}, 1, false, dst)[0], "page " + i);
            assertArrayEquals(TestPage.of(0, i, version), dst, "page " + i);
            assertEquals(version, pool.versionOf(0, i), "the version of page " + i + " is known again");
        }
    }

    /** A new pool of {@code c} in {@link #region}, every page written in version 1. */
    private PoolRef written(PagePoolClient c) {
        PoolRef pool = c.newPool(PoolSpec.privatePool(true), 2, PoolMemory.in(region, EXTENTS, true));
        putAll(c, pool, 1);
        return pool;
    }

    private static PoolMemory left(ByteBuffer region) {
        return PoolMemory.in(region, EXTENTS, false);
    }

    @Test
    void aClientStartedAgainOnThePoolsMemoryReadsEveryPageAfterFencingEachDonor() throws Exception {
        PagePoolClient first = connect();
        PoolRef pool = written(first);
        first.close(); // dies: its pool stays on the donors

        PagePoolClient second = connect();
        PoolRef again = second.resumePool(PoolSpec.privatePool(true), 2, left(region));
        CompletableFuture<PageStatus[]> early = second.getBatchAsync(again, new long[] {0}, new int[] {0}, 1, false,
            new byte[Frame.PAGE_BYTES]);
        clock.advance(Duration.ofMillis(1));
        await(() -> second.upCount() == 3, "the donors are fenced, checked and back in service");
        assertEquals(PageStatus.OK, early.get(10, TimeUnit.SECONDS)[0], "a read waits for the re-attachment");
        for (FakeDonor fake : fakes) {
            assertTrue(fake.requests(Opcode.PING) >= 1, "each donor was fenced before it served the resumed pool");
        }
        assertReads(second, again, 1);
        assertEquals(0, second.counters().extentsLost());
        putAll(second, again, 2);
        assertReads(second, again, 2);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aDonorThatLostThePoolMeanwhileIsGoneAndItsPagesAreReadFromTheOtherCopy() throws Exception {
        PagePoolClient first = connect();
        PoolRef pool = written(first);
        int lost = pool.extents.replica(pool.extents.find(0, 0), 0);
        String lostName = first.donorName(lost);
        first.close();
        FakeDonor restarted = fakes.get(Integer.parseInt(lostName.substring(lostName.indexOf('-') + 1)));
        restarted.frameStatus(Opcode.GET, Status.NO_SUCH_POOL); // its lease ran out while no agent ran

        PagePoolClient second = connect();
        PoolRef again = second.resumePool(PoolSpec.privatePool(true), 2, left(region));
        clock.advance(Duration.ofMillis(1));
        await(() -> second.counters().donorsDown() == 1, "the donor without the pool is gone");
        await(() -> second.upCount() == 2, "the others are fenced, checked and back in service");
        restarted.frameStatus(Opcode.GET, null);
        assertReads(second, again, 1);
        assertEquals(0, second.counters().pagesLost(), "every extent had its other copy");
        awaitCopies(() -> second.underReplicatedExtents() == 0, "the copies it held are made again elsewhere");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void anExtentWithAWriteUnderWayWhenTheProcessDiedKeepsOneCopyAndTheOthersAreCopiedFromIt() throws Exception {
        PagePoolClient first = connect();
        PoolRef pool = written(first);
        int e = pool.extents.find(0, 0);
        int holder = pool.extents.replica(e, 1);
        String name = first.donorName(holder);
        FakeDonor slow = fakes.get(Integer.parseInt(name.substring(name.indexOf('-') + 1)));
        slow.script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        first.putAsync(pool, 0, 5, TestPage.of(0, 5, 2), 0, 2); // under way when the process dies
        await(() -> slow.heldCount() == 1, "one copy took the write, the other holds it");
        // What the process leaves if it dies now: the memory as it is, a write under way.
        ByteBuffer snapshot = ByteBuffer.allocateDirect(region.capacity());
        snapshot.put(region.duplicate().clear()).clear();
        assertTrue(pool.extents.writeUnderWay(e));
        slow.script((h, b) -> FakeDonor.Action.SERVE);
        first.close();

        PagePoolClient second = connect();
        PoolRef again = second.resumePool(PoolSpec.privatePool(true), 2, left(snapshot));
        int e2 = again.extents.find(0, 0);
        assertFalse(again.extents.writeUnderWay(e2), "the dead process's write is settled");
        assertEquals(1, again.extents.completeCount(e2), "one copy is kept; the other is copied from it");
        clock.advance(Duration.ofMillis(1));
        awaitCopies(() -> again.extents.completeCount(e2) == 2, "the re-replicator copied the extent whole");
        byte[] dst = new byte[Frame.PAGE_BYTES];
        byte[] first5 = null;
        for (int turn = 0; turn < 4; turn++) {
            assertEquals(PageStatus.OK, second.getBatch(again, new long[] {0}, new int[] {5}, 1, false, dst)[0]);
            assertTrue(Arrays.equals(TestPage.of(0, 5, 1), dst) || Arrays.equals(TestPage.of(0, 5, 2), dst),
                "either version of a write never acknowledged");
            first5 = first5 == null ? dst.clone() : first5;
            assertArrayEquals(first5, dst, "but the same one from every copy");
        }
        guard.assertNoEventLoopBlocked();
    }
}
