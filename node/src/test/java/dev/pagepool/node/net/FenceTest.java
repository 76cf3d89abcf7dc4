package dev.pagepool.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A client that stopped hearing from this donor re-attaches on a new connection and fences its older ones: a
 * write still queued on a connection it gave up must never land after what it writes now.
 */
@QuarkusTest
@TestProfile(HardenedProfile.class)
class FenceTest {
    @Inject
    DataServer server;

    @Test
    void aFencedConnectionCanNoLongerChangeTheClientsPoolsButTheNewOneCan() throws Exception {
        long clientId = new SplittableRandom().nextLong();
        byte[] older = page(1);
        byte[] newer = page(2);
        try (DataPortClient old = new DataPortClient(server.port());
             DataPortClient fresh = new DataPortClient(server.port());
             DataPortClient stranger = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            old.authenticate(clientId, HardenedProfile.TOKEN);
            int pool = old.newPool(true);
            int others = stranger.newPool(true);
            assertEquals(Status.PAGE_OK, old.put(pool, 5, 0, 1, older)[0]);
            fresh.authenticate(clientId, HardenedProfile.TOKEN);
            fresh.ping(Frame.FLAG_FENCE);

            DataPortClient.Received late = old.tryPut(pool, 5, 0, 1, older);
            assertEquals(Opcode.PUT, late.header().opcode());
            assertEquals(Status.FENCED, late.header().status(), late.message());
            assertTrue(late.message().contains("fenced"), late.message());
            assertEquals(Status.PAGE_OK, fresh.put(pool, 5, 0, 1, newer)[0]);
            assertEquals(Status.PAGE_OK, old.get(pool, 5, 0, 1)[0], "reads stay open to the old connection");
            assertEquals(Status.PAGE_OK, stranger.put(others, 5, 0, 1, older)[0], "another client's pools are not fenced");
            old.ping(); // refused, not dropped: the connection goes on
        }
    }

    private static byte[] page(int seed) {
        byte[] p = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(seed).nextBytes(p);
        return p;
    }
}
