package dev.pagepool.node.admin;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.net.DataPortClient;
import dev.pagepool.node.net.DataServer;
import jakarta.inject.Inject;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class AdminTokenTest {
    static final String DATA_TOKEN = "s3cret-token";
    static final String ADMIN_TOKEN = "another-s3cret-for-the-admin";

    public static class WithToken implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pagepool.auth.token", DATA_TOKEN, "pagepool.admin.token", ADMIN_TOKEN);
        }
    }

    @Inject
    DataServer server;

    @Test
    void adminRefusesMissingOrWrongBearerToken() {
        given().when().get("/admin/stats").then().statusCode(401);
        given().header("Authorization", "Bearer wrong").when().get("/admin/stats").then().statusCode(401);
        given().header("Authorization", "Bearer s3cret-token").when().get("/admin/stats").then().statusCode(200);
    }

    @Test
    void drainAndCapacityNeedTheTokenToo() {
        given().when().post("/admin/drain").then().statusCode(401);
        given().header("Authorization", "Bearer wrong").when().post("/admin/drain").then().statusCode(401);
        given().contentType("application/json").body("{\"bytes\": 0}").when().put("/admin/capacity").then().statusCode(401);
    }

    @Test
    void theDataTokenEveryAgentHostHoldsReadsButNeitherDrainsNorShrinksTheDonor() {
        given().header("Authorization", "Bearer " + DATA_TOKEN).when().get("/admin/stats").then().statusCode(200);
        given().header("Authorization", "Bearer " + DATA_TOKEN).when().post("/admin/drain").then().statusCode(403)
            .body("error", containsString("pagepool.admin.token"));
        given().header("Authorization", "Bearer " + DATA_TOKEN).contentType("application/json").body("{\"bytes\": 0}")
            .when().put("/admin/capacity").then().statusCode(403).body("error", containsString("pagepool.admin.token"));
        long capacity = given().header("Authorization", "Bearer " + DATA_TOKEN).when().get("/admin/stats")
            .then().extract().jsonPath().getLong("capacity_bytes");
        assertTrue(capacity > 0, "the refused shrink changed nothing: " + capacity);
        given().header("Authorization", "Bearer " + ADMIN_TOKEN).contentType("application/json")
            .body("{\"bytes\": " + capacity + "}").when().put("/admin/capacity").then().statusCode(200);
    }

    @Test
    void poolOwnersAreShownToTheAdminTokenAloneSoNobodyLearnsWhoseIdToSay() throws Exception {
        try (DataPortClient client = new DataPortClient(server.port())) {
            client.authenticate(0x5151, DATA_TOKEN);
            int pool = client.newPool(true);
            String byData = given().header("Authorization", "Bearer " + DATA_TOKEN).when().get("/admin/pools")
                .then().statusCode(200).extract().asString();
            assertTrue(byData.contains("\"id\":" + pool), byData);
            assertFalse(byData.contains(Long.toUnsignedString(0x5151)), "no owner ids for the data token: " + byData);
            given().header("Authorization", "Bearer " + ADMIN_TOKEN).when().get("/admin/pools").then().statusCode(200)
                .body("find { it.id == " + pool + " }.owner_client_id", equalTo(Long.toUnsignedString(0x5151)));
        }
    }

    @Test
    void probesAndMetricsStayOpenForKubeletAndScrapers() {
        given().when().get("/q/health/ready").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200);
    }
}
