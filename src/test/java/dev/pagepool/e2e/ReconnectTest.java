package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A connection the donor closed is opened again on the next call, with the shared pools it had joined. */
class ReconnectTest {

    @Test
    void callsAfterTheDonorClosedTheConnectionReconnectAndFindTheirPools() throws Exception {
        try (DonorProcess donor = Donors.start(Donors.lone("reconnect", "rc", "32m").with("pagepool.node.idle-timeout", "1s"));
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), "rc")
                 .withConnectionsPerNode(2).withKeepAlive(Duration.ofMinutes(10)))) {
            byte[] page = new byte[4096];
            new Random(9).nextBytes(page);
            PoolRef own = client.newPool(PoolSpec.privatePool(true));
            PoolRef shared = client.newPool(PoolSpec.sharedPool(false, UUID.randomUUID()));
            assertEquals(PageStatus.OK, client.put(own, 1, 1, page));
            assertEquals(PageStatus.OK, client.put(shared, 2, 2, page));
            Thread.sleep(3000); // the donor closes both idle connections after 1 s
            assertEquals(0, openConnections(donor), "the donor closed the idle connections");
            byte[] got = new byte[4096];
            assertEquals(PageStatus.OK, client.get(own, 1, 1, false, got), "private pool, within the lease");
            assertArrayEquals(page, got);
            byte[] got2 = new byte[4096];
            for (int i = 0; i < 4; i++) { // both connections of the donor, round robin
                assertEquals(PageStatus.OK, client.get(shared, 2, 2, false, got2), "shared pool re-joined on connection " + i);
                assertArrayEquals(page, got2);
            }
            // The test thread's own connection for its lone private-pool calls (opened after the sleep) is not one of
            // the client's event-loop connections.
            assertEquals(2, openConnections(donor) - stat(donor, "connections_calls_only"),
                "both event-loop connections were opened again");
        }
    }

    private static long openConnections(DonorProcess donor) throws Exception {
        return stat(donor, "connections");
    }

    private static long stat(DonorProcess donor, String key) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(Donors.http(donor, "GET", "/admin/stats", "rc", null).body()).get(key).asLong();
    }
}
