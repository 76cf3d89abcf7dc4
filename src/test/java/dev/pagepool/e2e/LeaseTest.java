package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.client.PoolSecret;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.protocol.PoolSpec;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A client gone for longer than its lease loses its private pools; one that comes back in time keeps them. */
class LeaseTest {
    private static final String TOKEN = "lease-e2e";
    private static final long LEASE_MILLIS = 2000;

    /**
     * A donor of the test's own: what a test counts on it (its pools, its pages) is only what that test made, and
     * a pool another test left behind, waiting for its lease to run out, cannot change the count.
     */
    private static DonorProcess leaseDonor(String name) {
        return Donors.start(Donors.lone(name, TOKEN, "64m").with("pagepool.node.lease", LEASE_MILLIS + "ms"));
    }

    private static ClientConfig config(DonorProcess donor, long clientId) {
        // The pool secret is the client's, as its id is: a client that comes back presents both.
        return ClientConfig.of(List.of(donor.dataAddress()), TOKEN).withClientId(clientId)
            .withPoolSecret(new PoolSecret(clientId, 0x1ea5e));
    }

    private static boolean poolExists(DonorProcess donor, int id) throws Exception {
        JsonNode pools = new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/pools", Donors.adminToken(TOKEN), null).body());
        for (JsonNode p : pools) {
            if (p.get("id").asInt() == id) {
                return true;
            }
        }
        return false;
    }

    @Test
    void privatePoolsOfAClientGoneLongerThanItsLeaseAreDestroyed() throws Exception {
        byte[] page = new byte[4096];
        new Random(3).nextBytes(page);
        try (DonorProcess donor = leaseDonor("lease")) {
            int gonePool;
            try (PagePoolClient leaving = PagePoolClient.connect(config(donor, 1001))) {
                PoolRef pool = leaving.newPool(PoolSpec.privatePool(true));
                gonePool = pool.idOn(0);
                for (int i = 0; i < 100; i++) {
                    assertEquals(PageStatus.OK, leaving.put(pool, 1, i, page));
                }
            }
            try (PagePoolClient staying = PagePoolClient.connect(config(donor, 1002))) {
                PoolRef kept = staying.newPool(PoolSpec.privatePool(true));
                assertEquals(PageStatus.OK, staying.put(kept, 1, 1, page));
                assertTrue(poolExists(donor, gonePool), "the lease has not run out yet");
                long deadline = System.currentTimeMillis() + LEASE_MILLIS + 5000;
                while (poolExists(donor, gonePool) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                assertFalse(poolExists(donor, gonePool), "pool of a client gone for longer than its lease");
                byte[] got = new byte[4096];
                assertEquals(PageStatus.OK, staying.get(kept, 1, 1, false, got), "a connected client keeps its pool");
                assertArrayEquals(page, got);
                String stats = Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body();
                assertEquals(1, new ObjectMapper().readTree(stats).get("pages").asLong(),
                    "the expired pool's 100 pages were freed: " + stats);
            }
        }
    }

    @Test
    void aQuietClientKeepsItsConnectionAndItsPoolsAlive() throws Exception {
        try (DonorProcess strict = Donors.start(Donors.lone("lease-idle", TOKEN, "32m")
                .with("pagepool.node.lease", "1s").with("pagepool.node.idle-timeout", "2s"));
             PagePoolClient quiet = PagePoolClient.connect(ClientConfig.of(List.of(strict.dataAddress()), TOKEN)
                 .withKeepAlive(java.time.Duration.ofMillis(500)))) {
            byte[] page = new byte[4096];
            new Random(5).nextBytes(page);
            PoolRef pool = quiet.newPool(PoolSpec.privatePool(true));
            assertEquals(PageStatus.OK, quiet.put(pool, 1, 1, page));
            Thread.sleep(5000); // longer than idle timeout + lease together
            byte[] got = new byte[4096];
            assertEquals(PageStatus.OK, quiet.get(pool, 1, 1, false, got), "keep-alives kept the connection and the lease");
            assertArrayEquals(page, got);
        }
    }

    @Test
    void aClientThatReconnectsWithinItsLeaseKeepsItsPages() throws Exception {
        byte[] page = new byte[4096];
        new Random(4).nextBytes(page);
        try (DonorProcess donor = leaseDonor("lease-back")) {
            PoolRef pool;
            try (PagePoolClient first = PagePoolClient.connect(config(donor, 2001))) {
                pool = first.newPool(PoolSpec.privatePool(true));
                assertEquals(PageStatus.OK, first.put(pool, 5, 5, page));
            }
            Thread.sleep(LEASE_MILLIS / 4);
            try (PagePoolClient again = PagePoolClient.connect(config(donor, 2001))) {
                Thread.sleep(LEASE_MILLIS * 2); // connected: the lease does not run
                byte[] got = new byte[4096];
                assertEquals(PageStatus.OK, again.get(pool, 5, 5, false, got));
                assertArrayEquals(page, got);
            }
        }
    }
}
