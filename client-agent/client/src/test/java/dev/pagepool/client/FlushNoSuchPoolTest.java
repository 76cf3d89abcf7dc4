package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import org.junit.jupiter.api.Test;

/**
 * A donor answers a flush with NO_SUCH_POOL when it no longer has the pool (it restarted, or the lease ran out):
 * the flush has nothing left to remove there, and completes.
 */
class FlushNoSuchPoolTest {
    @Test
    void aFlushAnsweredNoSuchPoolByEveryCopyCompletesAndTakesNoDonorOutOfService() throws Exception {
        try (FakeCluster cluster = new FakeCluster(2);
             PagePoolClient client = cluster.connect()) {
            PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
            assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {1}, new int[] {0}, TestPage.of(1, 0, 1), 1)[0]);
            for (FakeDonor fake : cluster.fakes) {
                fake.frameStatus(Opcode.FLUSH_PAGE, Status.NO_SUCH_POOL);
            }
            assertEquals(PageStatus.MISS, client.flushPages(pool, new long[] {1}, new int[] {0}, 1)[0]);
            assertEquals(0, client.counters().donorsDown(), "the flush itself takes no donor out of service");
            assertTrue(client.donorUp(0) && client.donorUp(1));
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
