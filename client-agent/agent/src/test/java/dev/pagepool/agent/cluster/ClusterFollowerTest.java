package dev.pagepool.agent.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.EventLoopGuard;
import dev.pagepool.client.FakeDonor;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.discovery.DonorEndpoint;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorLoad;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Membership events as a Hazelcast member can send them: only the member that advertised a donor can make it
 * suspect by leaving, and never drop its copies; any other member that advertises the same address and leaves
 * changes nothing.
 */
class ClusterFollowerTest {
    private static final long FREE = 1L << 30;

    private EventLoopGuard guard;
    private FakeDonor real;
    private FakeDonor other;
    private PagePoolClient client;
    private ClusterFollower follower;
    private final UUID advertiser = UUID.randomUUID();
    private final UUID rogue = UUID.randomUUID();

    @BeforeEach
    void setUp() throws Exception {
        guard = new EventLoopGuard();
        real = new FakeDonor(guard.vertx(), "fake-0");
        other = new FakeDonor(guard.vertx(), "fake-1");
        guard.warmUp(real.address());
        client = PagePoolClient.connect(new ClientConfig(List.of(real.address(), other.address()), "", 31, 1, 64,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx());
        follower = new ClusterFollower(client);
        follower.donorAdded(info(advertiser, real.address()));
        follower.donorAdded(info(UUID.randomUUID(), other.address()));
    }

    @AfterEach
    void tearDown() throws Exception {
        client.close();
        real.close();
        other.close();
        guard.close();
    }

    @Test
    void aMemberThatAdvertisedADonorsAddressAndLeftChangesNothing() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
        byte[] page = page(7);
        assertEquals(PageStatus.OK, client.put(pool, 1, 0, page));
        follower.donorAdded(info(rogue, real.address()));
        follower.donorRemoved(info(rogue, real.address()));

        assertTrue(client.donorUp(0), "the real donor stays in service");
        assertEquals(0, client.counters().donorsSuspect(), "not even suspect");
        assertEquals(0, client.counters().donorsDown());
        assertEquals(0, client.counters().extentsLost(), "no copy was dropped");
        assertEquals(2, client.knownDonors());
        assertEquals(2, client.counters().membershipEventsIgnored(), "the rogue's load and its removal are counted");
        assertTrue(real.holds(pool.idOn(0), 1, 0), "the donor still holds its copy");
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, client.get(pool, 1, 0, false, read));
        assertArrayEquals(page, read);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aRogueLoadForADonorsAddressIsIgnored() {
        follower.donorAdded(info(rogue, real.address()));
        follower.loadChanged(new DonorInfo("rogue", rogue, real.address().getHostString(), real.address().getPort(),
            0, Long.MAX_VALUE / 2, 0, DonorLoad.PRESSURE_NONE, System.currentTimeMillis(), null));
        assertEquals(FREE, client.donorFreeBytes(0), "the load the advertising member published stands");
    }

    @Test
    void whenTheAdvertisingMemberLeavesTheDonorIsSuspectAndKeepsItsCopies() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
        byte[] page = page(9);
        assertEquals(PageStatus.OK, client.put(pool, 2, 0, page));
        int poolOnReal = pool.idOn(0);
        follower.donorRemoved(info(advertiser, real.address()));

        assertEquals(1, client.counters().donorsSuspect(), "suspect, not gone");
        assertEquals(0, client.counters().donorsDown(), "never taken out of service by the event alone");
        assertEquals(0, client.counters().extentsLost(), "its copies are kept");
        assertEquals(2, client.knownDonors(), "still followed");
        // It still answers with its pools intact: it is readmitted and serves its copy again.
        await(() -> client.donorUp(0), "the donor is readmitted");
        assertEquals(poolOnReal, pool.idOn(0), "with the same pool");
        assertEquals(1, client.counters().donorsReattached());
        assertTrue(real.holds(poolOnReal, 2, 0));
        byte[] read = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, client.get(pool, 2, 0, false, read));
        assertArrayEquals(page, read);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aDonorWhoseAdvertiserLeftIsForgottenOnceItIsOutOfService() throws Exception {
        follower.donorRemoved(info(advertiser, real.address()));
        real.close();
        await(() -> client.knownDonors() == 1, "the dead donor is forgotten");
        assertTrue(client.donorUp(1), "the other donor is untouched");
        follower.donorAdded(info(UUID.randomUUID(), real.address()));
        assertEquals(2, client.knownDonors(), "a member that advertises the address again brings it back");
        assertEquals(2, client.donorIndexLimit(), "at the index it left");
    }

    @Test
    void whenTheAdvertiserLeavesTheNextMemberThatClaimedTheAddressSpeaksForTheDonor() throws Exception {
        UUID restarted = UUID.randomUUID();
        follower.donorAdded(info(restarted, real.address())); // the donor restarted before its old member was missed
        follower.donorRemoved(info(advertiser, real.address()));
        assertEquals(1, client.counters().donorsSuspect());
        await(() -> client.donorUp(0), "the donor is readmitted");
        follower.donorRemoved(info(restarted, real.address()));
        assertEquals(2, client.counters().donorsSuspect(), "the new member's departure counts");
        assertEquals(1, client.counters().membershipEventsIgnored(),
            "only the load it published while the old member still spoke for the donor");
    }

    @Test
    void aMemberThatPublishedAnotherDonorIdSpeaksOfAnotherProcess() throws Exception {
        try (FakeDonor third = new FakeDonor(guard.vertx(), "fake-2")) {
            // The first member to advertise the address published the id of a process no longer listening there.
            UUID stale = UUID.randomUUID();
            follower.donorAdded(info(stale, third.address(), UUID.randomUUID()));
            await(() -> client.upCount() == 3, "the donor that answers there is admitted");
            UUID current = UUID.randomUUID();
            follower.donorAdded(info(current, third.address(), third.id()));
            long ignored = client.counters().membershipEventsIgnored();
            follower.donorRemoved(info(stale, third.address(), null));
            assertEquals(0, client.counters().donorsSuspect(), "the stale member's departure changes nothing");
            assertEquals(ignored + 1, client.counters().membershipEventsIgnored(), "and is counted");
            assertTrue(client.donorUp(2));
            follower.donorRemoved(info(current, third.address(), third.id()));
            assertEquals(1, client.counters().donorsSuspect(), "the member that published the proven id speaks for it");
        }
    }

    private static DonorInfo info(UUID member, InetSocketAddress address) {
        return info(member, address, null);
    }

    private static DonorInfo info(UUID member, InetSocketAddress address, UUID donorId) {
        return DonorInfo.of(member, new DonorEndpoint("donor", address.getHostString(), address.getPort(), 0, donorId),
            new DonorLoad(FREE, 0, DonorLoad.PRESSURE_NONE, 0, System.currentTimeMillis()));
    }

    private static byte[] page(int seed) {
        byte[] page = new byte[Frame.PAGE_BYTES];
        java.util.Arrays.fill(page, (byte) seed);
        return page;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(5);
        }
    }
}
