package dev.pagepool.node.net;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** One token holder cannot take the donor from the others: pools and pages per client id are capped. */
@QuarkusTest
@TestProfile(HardenedProfile.class)
class ClientLimitsTest {
    @Inject
    DataServer server;

    @Test
    void aClientAtItsPoolLimitIsToldSoAndOthersStillCreatePools() throws Exception {
        try (DataPortClient greedy = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN);
             DataPortClient other = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            for (int i = 0; i < HardenedProfile.MAX_POOLS_PER_CLIENT; i++) {
                greedy.newPool(i % 2 == 0);
            }
            DataPortClient.Received refused = greedy.tryNewPool(true);
            assertEquals(Status.OVER_LIMIT, refused.header().status());
            assertTrue(refused.message().contains("max-pools-per-client"), refused.message());
            greedy.ping(); // the connection goes on
            other.newPool(true);
        }
    }

    @Test
    void aClientAtItsPageLimitHasItsPutsRejectedAndOthersStillStore() throws Exception {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(8).nextBytes(page);
        try (DataPortClient greedy = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN);
             DataPortClient other = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            int a = greedy.newPool(true);
            int b = greedy.newPool(false);
            int ok = 0;
            int rejected = 0;
            // 64 persistent pages, then 64 ephemeral ones: the limit counts every pool the client owns.
            for (int[] statuses : new int[][] {greedy.put(a, 1, 0, 64, page), greedy.put(b, 1, 0, 64, page)}) {
                for (int s : statuses) {
                    ok += s == Status.PAGE_OK ? 1 : 0;
                    rejected += s == Status.PAGE_REJECTED ? 1 : 0;
                }
            }
            assertEquals(HardenedProfile.MAX_PAGES_PER_CLIENT, ok);
            assertEquals(128 - HardenedProfile.MAX_PAGES_PER_CLIENT, rejected);
            int mine = other.newPool(true);
            for (int s : other.put(mine, 1, 0, 64, page)) {
                assertEquals(Status.PAGE_OK, s);
            }
            long counted = given().header("Authorization", "Bearer " + HardenedProfile.TOKEN).when().get("/admin/stats")
                .then().statusCode(200).extract().jsonPath().getLong("puts_over_client_limit");
            assertTrue(counted >= rejected, "the refusals are counted: " + counted);
        }
    }
}
