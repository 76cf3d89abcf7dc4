package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
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
        client = PagePoolClient.connect(new ClientConfig(List.of(one.address()), "", 6, 1, 64,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), clock);
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
}
