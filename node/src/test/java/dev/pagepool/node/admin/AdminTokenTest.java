package dev.pagepool.node.admin;

import static io.restassured.RestAssured.given;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class AdminTokenTest {
    public static class WithToken implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("pagepool.auth.token", "s3cret-token");
        }
    }

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
    void probesAndMetricsStayOpenForKubeletAndScrapers() {
        given().when().get("/q/health/ready").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200);
    }
}
