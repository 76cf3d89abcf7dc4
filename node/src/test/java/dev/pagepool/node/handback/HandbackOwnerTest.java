package dev.pagepool.node.handback;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.pagepool.node.net.DataServer;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A handed-back page goes only to a connection that proved its pool's secret: a holder of the token who says the
 * owner's client id is sent none of it, however long the owner keeps refusing (and so the donor keeps offering).
 */
@QuarkusTest
@TestProfile(HandbackTestProfile.class)
class HandbackOwnerTest {
    private static final long CAPACITY = 64L * 1024 * 1024;
    private static final long OWNER_ID = 3003;
    private static final long WATCH_MILLIS = 3000;

    @Inject
    DataServer server;

    private static void capacity(long bytes) {
        given().contentType(ContentType.JSON).body("{\"bytes\": " + bytes + "}").when().put("/admin/capacity")
            .then().statusCode(200);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anImpostorSayingTheOwnersClientIdIsHandedBackNoPage() throws Exception {
        byte[][] data = new byte[40][Frame.PAGE_BYTES]; // 160 KiB, incompressible: well over the 64 KiB budget below
        SplittableRandom random = new SplittableRandom(30);
        for (byte[] page : data) {
            random.nextBytes(page);
        }
        try (RawClient owner = new RawClient(server.port());
             RawClient impostor = new RawClient(server.port())) {
            owner.hello(OWNER_ID);
            int pool = owner.newPool(true);
            try {
                for (int s : owner.put(pool, 9, 0, data)) {
                    assertEquals(Status.PAGE_OK, s);
                }
                impostor.hello(OWNER_ID, new OwnerKey(77, 77));
                capacity(64 * 1024); // far below use: the donor hands pages back to whoever owns them
                assertNotNull(owner.nextHandback(5000), "the owner is offered its pages");
                long until = System.currentTimeMillis() + WATCH_MILLIS;
                while (System.currentTimeMillis() < until) {
                    RawClient.Handback offered = owner.nextHandback(100);
                    if (offered != null) {
                        int[] refused = new int[offered.pages().length];
                        Arrays.fill(refused, Status.PAGE_REJECTED); // kept by the donor, offered again
                        owner.answer(offered, refused);
                    }
                    assertNull(impostor.nextHandback(100), "a page of the owner's pool went to the impostor");
                }
            } finally {
                capacity(CAPACITY);
                owner.destroyPool(pool);
            }
        }
    }
}
