package dev.pagepool.node.admin;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AdminEndpointsTest {
    /**
     * The budget the test configuration gives the donor (%test in application.properties), which every test of
     * the shared application expects to find.
     */
    private static final int CAPACITY = 64 * 1024 * 1024;

    /** A test that changes the budget gives it back even when it fails, so no later test inherits its change. */
    @AfterEach
    void restoreCapacity() {
        given().contentType(ContentType.JSON).body("{\"bytes\": " + CAPACITY + "}")
            .when().put("/admin/capacity").then().statusCode(200).body("capacity_bytes", equalTo(CAPACITY));
    }

    @Test
    void statsCarryEveryContractKey() {
        var body = given().when().get("/admin/stats").then().statusCode(200).contentType(ContentType.JSON);
        for (String key : new String[] {"capacity_bytes", "used_bytes", "pages", "pages_persistent", "pages_ephemeral",
            "stored_bytes", "puts", "puts_rejected", "gets", "get_misses", "evictions", "handed_back", "reserve_bytes",
            "reserve_used_bytes", "handed_back_bytes", "watermark_level", "watermark", "operator_capacity_bytes"}) {
            body.body(key, notNullValue());
        }
        body.body("capacity_bytes", equalTo(CAPACITY)).body("reserve_bytes", greaterThan(0));
        // A benchmark's warm-up waits on these two; a donor that has served a request has compiled something.
        body.body("process_cpu_nanos", greaterThan(0L)).body("jit_compile_millis", greaterThan(0));
    }

    @Test
    void capacityChangesAtRuntimeAndRefusesNonsense() {
        given().contentType(ContentType.JSON).body("{\"bytes\": 33554432}")
            .when().put("/admin/capacity").then().statusCode(200).body("capacity_bytes", equalTo(33554432));
        given().when().get("/admin/stats").then().body("capacity_bytes", equalTo(33554432));
        given().contentType(ContentType.JSON).body("{\"bytes\": -1}")
            .when().put("/admin/capacity").then().statusCode(400).body("error", containsString("negative"));
        given().contentType(ContentType.JSON).body("{}")
            .when().put("/admin/capacity").then().statusCode(400);
    }

    @Test
    void poolsListIsJson() {
        given().when().get("/admin/pools").then().statusCode(200).contentType(ContentType.JSON);
    }

    @Test
    void livenessAndReadinessAreUpOnceTheDataPortListens() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
            .body("checks.find { it.name == 'data-port' }.status", equalTo("UP"));
    }

    @Test
    void metricsArePrometheusWithPagepoolNames() {
        given().when().get("/q/metrics").then().statusCode(200)
            .body(containsString("pagepool_capacity_bytes"))
            .body(containsString("pagepool_puts_total"))
            .body(containsString("pagepool_puts_rejected_total"))
            .body(containsString("pagepool_evictions_total"))
            .body(containsString("pagepool_compression_ratio"))
            .body(containsString("pagepool_reserve_bytes"))
            .body(containsString("pagepool_watermark_level"))
            .body(containsString("pagepool_handed_back_pages_total"))
            .body(containsString("pagepool_handed_back_bytes_total"));
    }
}
