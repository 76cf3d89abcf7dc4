package dev.pagepool.node.handback;

import static dev.pagepool.node.handback.AdminCalls.capacity;
import static dev.pagepool.node.handback.AdminCalls.stat;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.handback.RawClient.HandedBackPage;
import dev.pagepool.node.handback.RawClient.Handback;
import dev.pagepool.node.net.DataServer;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The donor under pressure, seen from a client speaking the protocol over a plain socket: shrinking the budget
 * below use makes the donor hand persistent pages back, and only acknowledged, unchanged pages are freed.
 */
@QuarkusTest
@TestProfile(HandbackTestProfile.class)
class HandbackEndToEndTest {
    private static final long CAPACITY = 64L * 1024 * 1024;
    private static final int PAGES = 40;

    @Inject
    DataServer server;

    /** The pools each test made, with the client id that owns them. */
    private final Map<Integer, Long> pools = new LinkedHashMap<>();

    /**
     * Gives the budget back and destroys the test's pools, whether it passed or failed: no later test inherits its
     * pages, nor the pressure they put on the donor.
     */
    @AfterEach
    void cleanUp() throws IOException {
        try {
            capacity(CAPACITY);
        } finally {
            for (Map.Entry<Integer, Long> pool : pools.entrySet()) {
                try (RawClient owner = new RawClient(server.port())) {
                    owner.hello(pool.getValue());
                    owner.destroyPool(pool.getKey());
                }
            }
        }
    }

    /** A persistent pool of {@code client}'s, destroyed after the test. */
    private int newPool(RawClient client) throws IOException {
        int pool = client.newPool(true);
        pools.put(pool, client.clientId());
        return pool;
    }


    private static void assertAllOk(int[] statuses) {
        for (int status : statuses) {
            assertEquals(Status.PAGE_OK, status);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void acknowledgedPagesAreFreedAndRefusedOnesStay() throws Exception {
        byte[][] data = RandomPages.of(PAGES, 1);
        long handedBackBefore = stat("handed_back");
        long bytesBefore = stat("handed_back_bytes");
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1001);
            int pool = newPool(client);
            assertAllOk(client.put(pool, 7, 0, data));

            capacity(64 * 1024); // far below use: MIN
            given().when().get("/admin/stats").then().body("watermark_level", equalTo(3)).body("watermark", equalTo("MIN"));
            given().when().get("/q/health/ready").then().statusCode(503)
                .body("checks.find { it.name == 'pressure' }.status", equalTo("DOWN"));

            // Even indexes: "I hold it now"; odd ones: "I could not take it", every time they are offered. Until
            // the donor has freed every even page: an answer that comes after the ack timeout (a slow machine) frees
            // nothing, and the donor offers those pages again.
            Set<Integer> seen = new HashSet<>();
            while (seen.size() < PAGES || stat("handed_back") < handedBackBefore + PAGES / 2) {
                Handback h = client.nextHandback(5000);
                assertNotNull(h, "the donor hands pages back while over its budget");
                assertEquals(pool, h.pool());
                int[] answers = new int[h.pages().length];
                for (int i = 0; i < answers.length; i++) {
                    HandedBackPage page = h.pages()[i];
                    assertEquals(7, page.object());
                    assertArrayEquals(data[page.index()], page.data(), "page " + page.index() + " comes back as put");
                    seen.add(page.index());
                    answers[i] = page.index() % 2 == 0 ? Status.PAGE_OK : Status.PAGE_REJECTED;
                }
                client.answer(h, answers);
            }

            capacity(CAPACITY);
            for (int i = 0; i < PAGES; i++) {
                byte[] got = client.get(pool, 7, i);
                if (i % 2 == 0) {
                    assertNull(got, "page " + i + " was acknowledged, so the donor freed it");
                } else {
                    assertArrayEquals(data[i], got, "page " + i + " was refused, so the donor kept it");
                }
            }
            assertEquals(handedBackBefore + PAGES / 2, stat("handed_back"));
            assertEquals(bytesBefore + PAGES / 2 * Frame.PAGE_BYTES, stat("handed_back_bytes"));
            given().when().get("/q/health/ready").then().statusCode(200);
        }
    }

    /**
     * A client's connection that asked to carry its calls only (its reader reads only while a call is under way)
     * never gets a HANDBACK: the pages go back through the same client's other connection.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aCallsOnlyConnectionGetsNoHandbackAndTheClientsOtherConnectionDoes() throws Exception {
        byte[][] data = RandomPages.of(8, 7);
        try (RawClient calls = new RawClient(server.port()); RawClient other = new RawClient(server.port())) {
            calls.helloCallsOnly(1007);
            other.hello(1007);
            int pool = newPool(calls);
            assertAllOk(calls.put(pool, 5, 0, data));
            capacity(0);
            Handback h = other.nextHandback(5000);
            assertNotNull(h, "the client's ordinary connection gets the pages back");
            assertEquals(pool, h.pool());
            assertNull(calls.nextHandback(1500), "no HANDBACK on the calls-only connection");
            int[] refuse = new int[h.pages().length];
            java.util.Arrays.fill(refuse, Status.PAGE_REJECTED);
            other.answer(h, refuse);
            capacity(CAPACITY);
            for (int i = 0; i < data.length; i++) {
                assertArrayEquals(data[i], calls.get(pool, 5, i), "page " + i + " was refused back, so it stays");
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void pagesOfAClientThatNeverAnswersStay() throws Exception {
        byte[][] data = RandomPages.of(8, 2);
        long timeoutsBefore = stat("handback_timeouts");
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1002);
            int pool = newPool(client);
            assertAllOk(client.put(pool, 3, 0, data));
            capacity(0);
            assertNotNull(client.nextHandback(5000), "a HANDBACK frame comes");
            // No answer: after the 1 s ack timeout of the test profile the donor forgets the frame.
            long deadline = System.currentTimeMillis() + 10_000;
            while (stat("handback_timeouts") == timeoutsBefore && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(stat("handback_timeouts") > timeoutsBefore, "the unanswered frame timed out");
            capacity(CAPACITY);
            for (int i = 0; i < data.length; i++) {
                assertArrayEquals(data[i], client.get(pool, 3, i), "page " + i + " was never acknowledged");
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aNewerVersionPutWhileItsOldCopyTravelsIsKept() throws Exception {
        byte[][] v1 = RandomPages.of(4, 3);
        byte[][] v2 = RandomPages.of(1, 4);
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1003);
            int pool = newPool(client);
            assertAllOk(client.put(pool, 9, 0, v1));
            capacity(0);
            Handback h = client.nextHandback(5000);
            assertNotNull(h);
            assertEquals(4, h.pages().length);
            capacity(CAPACITY); // room again, so the newer put is taken
            assertAllOk(client.put(pool, 9, 0, v2));
            client.answer(h, Status.PAGE_OK, Status.PAGE_OK, Status.PAGE_OK, Status.PAGE_OK);
            assertArrayEquals(v2[0], client.get(pool, 9, 0), "the newer version survives the old one's acknowledgement");
            for (int i = 1; i < 4; i++) {
                assertNull(client.get(pool, 9, i), "page " + i + " was acknowledged unchanged");
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void handedBackPagesCarryTheVersionOfTheirLastPut() throws Exception {
        byte[][] first = RandomPages.of(4, 8);
        byte[][] last = RandomPages.of(4, 9);
        last[3] = new byte[Frame.PAGE_BYTES]; // a zero page: stored without a slab, its version kept all the same
        long[] lastVersions = {-1L, Long.MIN_VALUE, 0x0123_4567_89AB_CDEFL, 42L};
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1006);
            int pool = newPool(client);
            assertAllOk(client.put(pool, 11, 0, first, new long[] {1, 2, 3, 4}));
            assertAllOk(client.put(pool, 11, 0, last, lastVersions));
            capacity(0);
            Set<Integer> seen = new HashSet<>();
            while (seen.size() < 4) {
                Handback h = client.nextHandback(5000);
                assertNotNull(h, "the donor hands pages back while over its budget");
                int[] answers = new int[h.pages().length];
                for (int i = 0; i < answers.length; i++) {
                    HandedBackPage page = h.pages()[i];
                    assertEquals(lastVersions[page.index()], page.version(), "version of page " + page.index());
                    assertArrayEquals(last[page.index()], page.data(), "page " + page.index() + " comes back as last put");
                    seen.add(page.index());
                    answers[i] = Status.PAGE_OK;
                }
                client.answer(h, answers);
            }
            capacity(CAPACITY);
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aReplyToNoRequestIsIgnoredAndTheConnectionLives() throws Exception {
        byte[][] data = RandomPages.of(1, 5);
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1004);
            int pool = newPool(client);
            client.answerUnknown(424242);
            assertAllOk(client.put(pool, 1, 0, data));
            assertArrayEquals(data[0], client.get(pool, 1, 0));
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aDonorAtTheLowWatermarkRejectsPutsAndIsNotReady() throws Exception {
        byte[][] data = RandomPages.of(32, 6); // two 64 KiB slabs
        try (RawClient client = new RawClient(server.port())) {
            client.hello(1005);
            int pool = newPool(client);
            assertAllOk(client.put(pool, 1, 0, data));
            long used = stat("used_bytes");
            capacity(used); // used == budget: above low (0.95), not above min (1.0)
            given().when().get("/admin/stats").then().body("watermark_level", equalTo(2)).body("watermark", equalTo("LOW"));
            given().when().get("/q/health/ready").then().statusCode(503);
            given().when().get("/q/health/live").then().statusCode(200);
            assertEquals(Status.PAGE_REJECTED, client.put(pool, 2, 0, RandomPages.of(1, 7))[0]);
            assertArrayEquals(data[0], client.get(pool, 1, 0), "gets are served at LOW");
            capacity(CAPACITY);
            given().when().get("/admin/stats").then().body("watermark_level", equalTo(0));
            given().when().get("/q/health/ready").then().statusCode(200);
        }
    }
}
