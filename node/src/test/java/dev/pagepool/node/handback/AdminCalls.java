package dev.pagepool.node.handback;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;

/** The test donor's REST admin calls that hand-back tests make: its budget, and its stats. */
final class AdminCalls {
    private AdminCalls() {
    }

    static void capacity(long bytes) {
        given().contentType(ContentType.JSON).body("{\"bytes\": " + bytes + "}").when().put("/admin/capacity")
            .then().statusCode(200);
    }

    static long stat(String key) {
        return given().when().get("/admin/stats").then().statusCode(200).extract().jsonPath().getLong(key);
    }
}
