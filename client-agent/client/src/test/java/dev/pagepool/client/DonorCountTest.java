package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/** What the client reports of its donors: how many it follows, and apart from it the bound of their indexes. */
class DonorCountTest {
    @Test
    void aDonorThatLeftIsNoLongerCountedThoughItsIndexStaysUntilReused() throws Exception {
        try (FakeCluster cluster = new FakeCluster(3);
             PagePoolClient client = cluster.connect()) {
            assertEquals(3, client.knownDonors());
            client.donorLeft(cluster.fakes.get(1).address());
            assertEquals(2, client.knownDonors(), "a donor that left the cluster is not one of the client's");
            assertEquals(3, client.donorIndexLimit(), "its index stays, out of service, until a donor joins");
            assertFalse(client.donorUp(1));
            client.donorLeft(cluster.fakes.get(2).address());
            assertEquals(1, client.knownDonors());
            assertEquals(client.upCount(), client.knownDonors(), "every donor left is up");
            client.addDonor(cluster.fakes.get(1).address(), -1);
            assertEquals(2, client.knownDonors(), "a donor that joins is counted at once, admitted or not");
            assertEquals(3, client.donorIndexLimit(), "and takes a free index");
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
