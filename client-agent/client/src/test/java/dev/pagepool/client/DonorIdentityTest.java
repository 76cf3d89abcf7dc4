package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A donor is who it says it is in its handshake, not the address that reached it. */
class DonorIdentityTest {
    private EventLoopGuard guard;
    private FakeDonor one;
    private FakeDonor two;
    private PagePoolClient client;

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        one = new FakeDonor(guard.vertx(), "fake-0");
        two = new FakeDonor(guard.vertx(), "fake-1");
        guard.warmUp(one.address());
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        one.close();
        two.close();
        guard.close();
    }

    /** A client of donor {@code one} alone, run by hand on {@code clock}. */
    private PagePoolClient clientOfTheFirstDonor(long clientId, SteppedClock clock) {
        return PagePoolClient.connect(new ClientConfig(List.of(one.address()), "", clientId, 1, 64,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
    }

    @Test
    void twoAddressesOfOneDonorAreOneDonorAndNeverHoldTwoCopiesOfAPage() throws Exception {
        InetSocketAddress alias = InetSocketAddress.createUnresolved("localhost", one.address().getPort());
        client = PagePoolClient.connect(new ClientConfig(List.of(one.address(), alias), "", 5, 1, 64,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), new SteppedClock());
        assertEquals(1, client.upCount(), "127.0.0.1 and localhost reach one donor process");
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {0}, new int[] {0}, TestPage.of(0, 0, 1), 1)[0]);
        int e = pool.extents.find(0, 0);
        assertEquals(1, pool.extents.replicaCount(e), "one copy: the only donor cannot hold the second");
        assertTrue(client.underReplicatedExtents() > 0, "and the pool says it is short of a copy");
        byte[] dst = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, client.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, dst)[0]);
        assertArrayEquals(TestPage.of(0, 0, 1), dst);
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aDonorThatJoinsLaterGetsTheSecondCopies() throws Exception {
        SteppedClock clock = new SteppedClock();
        client = clientOfTheFirstDonor(6, clock);
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        assertEquals(2, pool.replicas(), "2 copies is the target, whatever is up when the pool is made");
        for (int i = 0; i < 3 * ExtentMap.EXTENT_PAGES; i++) {
            assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {0}, new int[] {i}, TestPage.of(0, i, 1), 1)[0]);
        }
        assertEquals(3, client.underReplicatedExtents());
        client.addDonor(two.address(), -1);
        ConductorSteps.untilPaced(client, clock, () -> client.underReplicatedExtents() == 0,
            "the joining donor gets the second copies");
        for (int i = 0; i < 3 * ExtentMap.EXTENT_PAGES; i++) {
            assertArrayEquals(TestPage.of(0, i, 1), two.page(pool.idOn(1), 0, i), "page " + i + " on the new donor");
        }
        guard.assertNoEventLoopBlocked();
    }

    /**
     * A member that publishes the id a donor proved speaks of that donor's link, whatever address it gives (a second
     * name of the host, say): no second link is made for it, its load is that donor's, and its departure makes that
     * donor suspect. The link is found by the identity the donor proved, not by the address string.
     */
    @Test
    void aMemberThatPublishedAProvenIdSpeaksOfThatDonorWhateverAddressItGives() throws Exception {
        SteppedClock clock = new SteppedClock();
        client = clientOfTheFirstDonor(7, clock);
        InetSocketAddress alias = InetSocketAddress.createUnresolved("localhost", one.address().getPort());
        UUID member = UUID.randomUUID();
        client.addDonor(alias, member, one.id(), 4096);
        assertEquals(1, client.knownDonors(), "the donor that proved the id is known already: no link for its alias");
        assertEquals(1, client.donorIndexLimit());
        assertEquals(4096, client.donorFreeBytes(0), "the member's load is that donor's");
        client.memberLeft(alias, member);
        assertTrue(client.donorsForTest().link(0).isSuspect(), "the member that spoke for it left: it is suspect");
        assertEquals(0, client.counters().membershipEventsIgnored());
        clock.advance(Duration.ofMillis(200)); // the reconnect pause, and the watcher's period
        ConductorSteps.until(client, clock, () -> client.donorUp(0), "it still answers: readmitted");
        guard.assertNoEventLoopBlocked();
    }

    /**
     * Once a donor proved its id, a member that published another id for its address does not speak for it, and
     * neither its load nor its departure is that donor's: both are ignored and counted.
     */
    @Test
    void aMemberThatPublishedAnotherIdForAProvenDonorsAddressCannotTouchIt() throws Exception {
        SteppedClock clock = new SteppedClock();
        client = clientOfTheFirstDonor(8, clock);
        client.reportFree(one.address(), 1L << 30);
        UUID rogue = UUID.randomUUID();
        client.addDonor(one.address(), rogue, UUID.randomUUID(), 1);
        client.reportFree(one.address(), rogue, 2);
        client.memberLeft(one.address(), rogue);
        assertEquals(1L << 30, client.donorFreeBytes(0), "the load stands");
        assertTrue(client.donorUp(0), "in service, not even suspect");
        assertEquals(3, client.counters().membershipEventsIgnored(), "its two loads and its departure are counted");
        guard.assertNoEventLoopBlocked();
    }
}
