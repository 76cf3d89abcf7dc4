package dev.pagepool.node.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A private pool opens to the owner key its creator proved, not to the client id anyone may say: a holder of the
 * cluster token who says the victim's id learns nothing of its pool and changes nothing in it, and the per-client
 * caps follow the key, so saying another id does not reset them.
 */
@QuarkusTest
@TestProfile(HardenedProfile.class)
class PoolSecretTest {
    private static final long VICTIM_ID = 0x7777;
    private static final OwnerKey VICTIM_KEY = new OwnerKey(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L);
    private static final OwnerKey IMPOSTOR_KEY = new OwnerKey(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4322L);

    @Inject
    DataServer server;

    @Test
    void anImpostorWithTheTokenAndTheVictimsIdCanNeitherReadWriteFlushNorDestroyItsPrivatePool() throws Exception {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(30).nextBytes(page);
        int pool;
        try (DataPortClient victim = new DataPortClient(server.port());
             DataPortClient impostor = new DataPortClient(server.port())) {
            victim.authenticate(VICTIM_ID, VICTIM_KEY, HardenedProfile.TOKEN);
            pool = victim.newPool(true);
            assertArrayEquals(new int[] {Status.PAGE_OK}, victim.put(pool, 1, 0, 1, page));

            impostor.authenticate(VICTIM_ID, IMPOSTOR_KEY, HardenedProfile.TOKEN);
            assertRefused(impostor.call(vector(impostor, Opcode.GET, pool, 0)), "GET");
            assertRefused(impostor.tryPut(pool, 1, 0, 1, new byte[Frame.PAGE_BYTES]), "PUT");
            assertRefused(impostor.call(vector(impostor, Opcode.FLUSH_PAGE, pool, 0)), "FLUSH_PAGE");
            assertRefused(impostor.call(vector(impostor, Opcode.FLUSH_OBJECT, pool, 0)), "FLUSH_OBJECT");
            ByteBuf destroy = Unpooled.buffer();
            FrameWriter.destroyPool(destroy, impostor.nextRequestId(), pool);
            assertRefused(impostor.call(destroy), "DESTROY_POOL");
            // Nor can it fence the victim's connections out of their own pool.
            impostor.ping(Frame.FLAG_FENCE);
            impostor.ping(); // the impostor's connection stays up: a refusal is an answer, not a close

            assertArrayEquals(new int[] {Status.PAGE_OK}, victim.get(pool, 1, 0, 1), "the victim's page is still there");
            assertArrayEquals(new int[] {Status.PAGE_OK}, victim.put(pool, 1, 1, 1, page), "and the victim still writes");
        }
        // Re-attaching after a restart is a new connection proving the same key: it finds the pool, as the victim.
        try (DataPortClient again = new DataPortClient(server.port())) {
            again.authenticate(VICTIM_ID, VICTIM_KEY, HardenedProfile.TOKEN);
            assertArrayEquals(new int[] {Status.PAGE_OK, Status.PAGE_OK}, again.get(pool, 1, 0, 2));
        }
    }

    @Test
    void thePoolCapFollowsTheProvenKeyNotTheSaidClientId() throws Exception {
        OwnerKey greedyKey = new OwnerKey(42, 4242);
        try (DataPortClient greedy = new DataPortClient(server.port());
             DataPortClient renamed = new DataPortClient(server.port());
             DataPortClient other = new DataPortClient(server.port())) {
            greedy.authenticate(1001, greedyKey, HardenedProfile.TOKEN);
            for (int i = 0; i < HardenedProfile.MAX_POOLS_PER_CLIENT; i++) {
                greedy.newPool(false);
            }
            renamed.authenticate(1002, greedyKey, HardenedProfile.TOKEN);
            DataPortClient.Received refused = renamed.tryNewPool(false);
            assertEquals(Status.OVER_LIMIT, refused.header().status(), "a new client id does not reset the count");
            assertTrue(refused.message().contains("max-pools-per-client"), refused.message());
            other.authenticate(1001, new OwnerKey(43, 4343), HardenedProfile.TOKEN);
            other.newPool(false); // the id the greedy one said is no obstacle to a client with a key of its own
        }
    }

    @Test
    void thePageCapFollowsTheProvenKeyNotTheSaidClientId() throws Exception {
        OwnerKey key = new OwnerKey(44, 4444);
        byte[] page = new byte[Frame.PAGE_BYTES];
        try (DataPortClient first = new DataPortClient(server.port());
             DataPortClient renamed = new DataPortClient(server.port())) {
            first.authenticate(2001, key, HardenedProfile.TOKEN);
            int a = first.newPool(false);
            int stored = 0;
            for (int s : first.put(a, 1, 0, HardenedProfile.MAX_PAGES_PER_CLIENT, page)) {
                stored += s == Status.PAGE_OK ? 1 : 0;
            }
            assertEquals(HardenedProfile.MAX_PAGES_PER_CLIENT, stored);
            renamed.authenticate(2002, key, HardenedProfile.TOKEN);
            int b = renamed.newPool(false);
            for (int s : renamed.put(b, 1, 0, 8, page)) {
                assertEquals(Status.PAGE_REJECTED, s, "a new client id does not reset the page count");
            }
        }
    }

    private static ByteBuf vector(DataPortClient c, int opcode, int pool, long object) {
        ByteBuf buf = Unpooled.buffer();
        FrameWriter.vector(buf, opcode, 0, c.nextRequestId(), pool, 1);
        if (opcode == Opcode.FLUSH_OBJECT) {
            buf.writeLong(object);
        } else {
            FrameWriter.keyEntry(buf, object, 0);
        }
        return buf;
    }

    private static void assertRefused(DataPortClient.Received r, String what) {
        assertEquals(Status.BAD_SECRET, r.header().status(), what + " by the impostor: " + r.message());
        assertTrue(r.message().contains("did not prove its secret"), what + ": " + r.message());
    }
}
