package dev.pagepool.node.handback;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.handback.RawClient.HandedBackPage;
import dev.pagepool.node.handback.RawClient.Handback;
import dev.pagepool.node.net.DataServer;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * POST /admin/drain with a connected owner that acknowledges everything and a pool whose owner has gone: every
 * page of the connected owner comes back, the other pool's pages are reported, ephemeral pages are dropped.
 */
@QuarkusTest
@TestProfile(DrainTestProfile.class)
class DrainEndToEndTest {
    private static final int PERSISTENT_PAGES = 150; // three frames of 64 at most
    private static final int UNREACHABLE_PAGES = 10;
    private static final int EPHEMERAL_PAGES = 20;

    @Inject
    DataServer server;

    private static byte[][] pages(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[][] pages = new byte[n][Frame.PAGE_BYTES];
        for (byte[] page : pages) {
            random.nextBytes(page);
        }
        return pages;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void drainHandsEveryPersistentPageBackToItsConnectedOwner() throws Exception {
        byte[][] data = pages(PERSISTENT_PAGES, 11);
        int orphanPool;
        try (RawClient gone = new RawClient(server.port())) {
            gone.hello(2002);
            orphanPool = gone.newPool(true);
            gone.put(orphanPool, 1, 0, pages(UNREACHABLE_PAGES, 12));
        } // its owner disconnects; the lease keeps the pool, but no one can take its pages
        try (RawClient client = new RawClient(server.port())) {
            client.hello(2001);
            int pool = client.newPool(true);
            int cache = client.newPool(false);
            for (int from = 0; from < PERSISTENT_PAGES; from += 50) {
                client.put(pool, 5, from, Arrays.copyOfRange(data, from, Math.min(PERSISTENT_PAGES, from + 50)));
            }
            client.put(cache, 6, 0, pages(EPHEMERAL_PAGES, 13));

            CompletableFuture<JsonPath> drain = CompletableFuture.supplyAsync(
                () -> given().when().post("/admin/drain").then().statusCode(200).extract().jsonPath());
            Map<Integer, byte[]> received = new HashMap<>();
            while (!drain.isDone()) {
                Handback h = client.nextHandback(200);
                if (h == null) {
                    continue;
                }
                assertEquals(pool, h.pool(), "only pools this client owns come to it");
                int[] ok = new int[h.pages().length];
                for (int i = 0; i < ok.length; i++) {
                    HandedBackPage page = h.pages()[i];
                    received.put(page.index(), page.data());
                    ok[i] = Status.PAGE_OK;
                }
                client.answer(h, ok);
            }
            JsonPath summary = drain.get();
            assertEquals(PERSISTENT_PAGES, received.size());
            for (int i = 0; i < PERSISTENT_PAGES; i++) {
                assertArrayEquals(data[i], received.get(i), "page " + i);
            }
            assertEquals(PERSISTENT_PAGES, summary.getLong("pages_handed_back"));
            assertEquals((long) PERSISTENT_PAGES * Frame.PAGE_BYTES, summary.getLong("bytes_handed_back"));
            assertEquals(UNREACHABLE_PAGES, summary.getLong("pages_left"));
            assertEquals(UNREACHABLE_PAGES, summary.getLong("pages_left_unreachable"));
            assertEquals(List.of(orphanPool), summary.getList("unreachable_pools", Integer.class));
            assertEquals(EPHEMERAL_PAGES, summary.getLong("ephemeral_dropped"));
            assertFalse(summary.getBoolean("timed_out"));
            assertTrue(summary.getBoolean("left_cluster"));
            assertTrue(summary.getLong("millis") >= 0);

            given().when().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'pressure' }.data.draining", equalTo(true));
            given().when().get("/q/health/live").then().statusCode(200);
            given().when().get("/admin/stats").then().body("pages_persistent", equalTo(UNREACHABLE_PAGES))
                .body("pages_ephemeral", equalTo(0)).body("draining", equalTo(1));
            assertEquals(Status.PAGE_REJECTED, client.put(pool, 5, 0, pages(1, 14))[0], "a draining donor takes no puts");
        }
    }
}
