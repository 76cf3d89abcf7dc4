package dev.pagepool.agent.swap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.EventLoopGuard;
import dev.pagepool.client.FakeDonor;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The swap store's windows, scripted against fake donors on real sockets: a hand-back that arrives after a newer
 * write, two writes of one slot applied in opposite orders by two copies, a read meeting a write in flight.
 */
class SwapStoreRacesTest {
    private static final int BLOCK = 4096;
    private static final long SLOT = 7;

    @TempDir
    Path dir;
    private EventLoopGuard guard;
    private final List<FakeDonor> fakes = new ArrayList<>();
    private PagePoolClient client;
    private SwapStore swap;

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        for (int i = 0; i < 2; i++) {
            fakes.add(new FakeDonor(guard.vertx(), "fake-" + i));
        }
        guard.warmUp(fakes.get(0).address());
    }

    @AfterEach
    void stop() throws Exception {
        if (swap != null) {
            swap.close();
        }
        if (client != null) {
            client.close();
        }
        for (FakeDonor fake : fakes) {
            fake.close();
        }
        guard.close();
    }

    private SwapStore open(int donors, int replicas) {
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (int i = 0; i < donors; i++) {
            nodes.add(fakes.get(i).address());
        }
        client = PagePoolClient.connect(new ClientConfig(nodes, "", 5, 1, 64, Duration.ofSeconds(2), Duration.ofSeconds(2),
            Duration.ofSeconds(20)), guard.vertx());
        swap = SwapStore.open(client, 64L * BLOCK, dir.resolve("swap.disk"), replicas);
        return swap;
    }

    private static byte[] page(int version) {
        byte[] p = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) {
            p[i] = (byte) (version * 13 + i);
        }
        return p;
    }

    /** Blocks {@code version} and {@code version + 1}, one after the other. */
    private static byte[] twoPages(int version) {
        byte[] two = new byte[2 * BLOCK];
        System.arraycopy(page(version), 0, two, 0, BLOCK);
        System.arraycopy(page(version + 1), 0, two, BLOCK, BLOCK);
        return two;
    }

    private byte[] read(long slot) throws Exception {
        byte[] dst = new byte[BLOCK];
        swap.read(slot, 1, dst, 0).get(10, TimeUnit.SECONDS);
        return dst;
    }

    @Test
    void aHandBackComposedBeforeANewerWriteNeverInstallsTheOlderPage() throws Exception {
        open(1, 1);
        FakeDonor donor = fakes.get(0);
        int pool = swap.pool().idOn(0);
        swap.write(SLOT, 1, page(1), 0).get(10, TimeUnit.SECONDS);
        ByteBuf composed = donor.handbackFrame(pool, SwapStore.OBJECT, (int) SLOT); // V1, on its way
        swap.write(SLOT, 1, page(2), 0).get(10, TimeUnit.SECONDS);               // V2 acknowledged
        donor.send(composed);
        Await.until(() -> donor.handbackAnswers().size() == 1, "the client answered the hand-back");
        assertArrayEquals(page(2), read(SLOT), "the slot serves its last write, not the handed-back page");
        assertEquals(1, swap.counters().staleHandBacks());
        assertEquals(0, swap.counters().handedBack());
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aHandBackOfTheCurrentPageMovesTheSlotToDisk() throws Exception {
        open(1, 1);
        FakeDonor donor = fakes.get(0);
        swap.write(SLOT, 1, page(3), 0).get(10, TimeUnit.SECONDS);
        donor.send(donor.handbackFrame(swap.pool().idOn(0), SwapStore.OBJECT, (int) SLOT));
        Await.until(() -> donor.handbackAnswers().size() == 1, "the client answered the hand-back");
        assertEquals(List.of(Status.PAGE_OK), donor.handbackAnswers());
        assertEquals(1, swap.counters().handedBack());
        assertEquals(1, swap.census()[SlotMap.DISK]);
        assertArrayEquals(page(3), read(SLOT));
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPageHandedBackByADonorWithNoCopyOfItIsNeverInstalledEvenWithTheSlotsVersion() throws Exception {
        open(2, 1);
        swap.write(SLOT, 1, page(1), 0).get(10, TimeUnit.SECONDS);
        int holder = fakes.get(0).holds(swap.pool().idOn(0), SwapStore.OBJECT, (int) SLOT) ? 0 : 1;
        FakeDonor other = fakes.get(1 - holder);
        int pool = swap.pool().idOn(1 - holder);
        // Versions are kept in 16 bits: a page a donor kept of a copy the map forgot can carry the slot's version
        // by chance (here, planted). Only the copies the map trusts with the page may be compared.
        other.plant(pool, SwapStore.OBJECT, (int) SLOT, page(9), swap.pool().versionOf(SwapStore.OBJECT, (int) SLOT));
        other.send(other.handbackFrame(pool, SwapStore.OBJECT, (int) SLOT));
        Await.until(() -> other.handbackAnswers().size() == 1, "the client answered the hand-back");
        assertEquals(List.of(Status.PAGE_OK), other.handbackAnswers(), "answered as taken: the donor frees a page nobody reads");
        assertEquals(0, swap.counters().handedBack());
        assertEquals(0, swap.census()[SlotMap.DISK]);
        assertArrayEquals(page(1), read(SLOT), "the slot serves its last write, not the other donor's page");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void eachSlotsVersionIsOneMoreThanItsLastWrite() throws Exception {
        open(1, 1);
        for (int v = 1; v <= 3; v++) {
            swap.write(SLOT, 2, twoPages(v), 0).get(10, TimeUnit.SECONDS);
        }
        swap.write(SLOT, 1, page(4), 0).get(10, TimeUnit.SECONDS);
        assertEquals(4, swap.pool().versionOf(SwapStore.OBJECT, (int) SLOT));
        assertEquals(3, swap.pool().versionOf(SwapStore.OBJECT, (int) SLOT + 1), "another slot counts its own writes");
        assertEquals(0, swap.pool().versionOf(SwapStore.OBJECT, (int) SLOT + 2));
    }

    @Test
    void twoWritesOfOneSlotReachEveryCopyInTheOrderTheyArrived() throws Exception {
        open(2, 2);
        FakeDonor late = fakes.get(1);
        // The second copy takes its puts in whatever order it is told: newest first.
        late.script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        // Two blocks a write: vector puts, sent at once, not one after the other through the coalescer's rounds.
        CompletableFuture<Void> first = swap.write(SLOT, 2, twoPages(4), 0);
        CompletableFuture<Void> second = swap.write(SLOT, 2, twoPages(5), 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(first.isDone() && second.isDone())) {
            assertTrue(System.nanoTime() < deadline, "both writes complete");
            Thread.sleep(20);
            late.releaseHeldNewestFirst();
        }
        first.get();
        second.get();
        for (FakeDonor fake : fakes) {
            int pool = swap.pool().idOn(fakes.indexOf(fake) == 0 ? donorIndex("fake-0") : donorIndex("fake-1"));
            assertArrayEquals(page(5), fake.page(pool, SwapStore.OBJECT, (int) SLOT), "every copy holds the last write");
            assertArrayEquals(page(6), fake.page(pool, SwapStore.OBJECT, (int) SLOT + 1), "every copy holds the last write");
        }
        assertArrayEquals(page(5), read(SLOT));
        assertArrayEquals(page(6), read(SLOT + 1));
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aReadMeetingAZeroWriteInFlightReadsZerosNotAnError() throws Exception {
        open(1, 1);
        FakeDonor donor = fakes.get(0);
        swap.write(SLOT, 1, page(6), 0).get(10, TimeUnit.SECONDS);
        // The flush of the zero write is applied at once, its reply is slow: the slot is still marked in the cluster.
        donor.script((h, b) -> h.opcode() == Opcode.FLUSH_PAGE ? FakeDonor.Action.DELAY_REPLY : FakeDonor.Action.SERVE);
        CompletableFuture<Void> zero = swap.write(SLOT, 1, new byte[BLOCK], 0);
        Await.until(() -> donor.heldCount() == 1, "the flush reached the donor");
        byte[] dst = new byte[BLOCK];
        CompletableFuture<Void> read = swap.read(SLOT, 1, dst, 0);
        Thread.sleep(100);
        donor.releaseHeld();
        read.get(10, TimeUnit.SECONDS);
        zero.get(10, TimeUnit.SECONDS);
        assertArrayEquals(new byte[BLOCK], dst, "the read sees the slot as the write left it");
        assertEquals(0, swap.counters().lost());
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aStopWaitsForWritesStillUnderWay() throws Exception {
        open(1, 1);
        FakeDonor donor = fakes.get(0);
        donor.script((h, b) -> h.opcode() == Opcode.PUT ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        CompletableFuture<Void> write = swap.write(SLOT, 1, page(7), 0);
        Await.until(() -> donor.heldCount() == 1, "the put reached the donor");
        assertFalse(swap.quiesce(100), "a put is still under way");
        donor.releaseHeld();
        assertTrue(swap.quiesce(5000));
        assertTrue(write.isDone());
        guard.assertNoEventLoopBlocked();
    }

    private int donorIndex(String name) {
        for (int d = 0; d < client.donorCount(); d++) {
            if (client.donorName(d).equals(name)) {
                return d;
            }
        }
        throw new AssertionError("no donor " + name);
    }
}
