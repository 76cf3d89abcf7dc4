package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A load a cluster member publishes for a donor is advisory: the donor's own word, in the STATS it answers on a
 * connection where it proved who it is, bounds it. A published load far from it is ignored and counted, and the
 * donor's own stands. Stepped by hand: the test decides when the conductor asks the donor.
 */
class ClusterLoadCheckTest {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;

    @Test
    void aPublishedLoadFarFromTheDonorsOwnStatsIsIgnoredAndCountedAndTheDonorsOwnStands() throws Exception {
        try (FakeCluster cluster = new FakeCluster(1)) {
            SteppedClock clock = new SteppedClock();
            PagePoolClient client = PagePoolClient.connect(cluster.config(), cluster.guard.vertx(), clock);
            try {
                FakeDonor donor = cluster.fakes.get(0);
                UUID member = UUID.randomUUID();
                // The member that advertises the donor publishes it nearly empty before the client ever asked it.
                client.addDonor(donor.address(), member, donor.id(), 1);
                assertEquals(1, client.donorFreeBytes(0), "nothing to check it against yet: taken");
                PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
                assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {0}, new int[] {0}, TestPage.of(0, 0, 1), 1)[0]);
                long own = GIB - Frame.PAGE_BYTES; // what the fake says: 1 GiB, one page used

                client.conductor().doWork(clock.nanoTime()); // the load poll's period starts
                clock.advance(Duration.ofSeconds(1));
                ConductorSteps.until(client, clock, () -> client.donorFreeBytes(0) == own,
                    "the donor's own STATS replace the load published far from it");
                assertEquals(1, donor.requests(Opcode.STATS));
                assertEquals(1L, client.counters().snapshot().get("cluster_loads_refused"), "and it is counted");

                client.reportFree(donor.address(), member, 2 * GIB);
                assertEquals(own, client.donorFreeBytes(0), "twice the donor's capacity free: ignored");
                client.reportFree(donor.address(), member, 0);
                assertEquals(own, client.donorFreeBytes(0), "full, where the donor says it is empty: ignored");
                assertEquals(3L, client.counters().snapshot().get("cluster_loads_refused"));

                client.reportFree(donor.address(), member, own - 16 * MIB);
                assertEquals(own - 16 * MIB, client.donorFreeBytes(0), "a load near the donor's own is taken");
                assertEquals(3L, client.counters().snapshot().get("cluster_loads_refused"));
            } finally {
                client.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
