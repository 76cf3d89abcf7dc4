package dev.pagepool.node.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * However the path of an admin endpoint is spelt, it needs the token. Requests are written by hand on a socket:
 * an HTTP client library would normalise the very paths under test before sending them.
 */
@QuarkusTest
@TestProfile(AdminTokenTest.WithToken.class)
class AdminPathTricksTest {
    @TestHTTPResource("/")
    URL root;

    private String request(String method, String path) throws Exception {
        try (Socket s = new Socket(root.getHost(), root.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            String body = method.equals("PUT") ? "{\"bytes\": 0}" : "";
            out.write((method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            return response.toString(StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin/stats", "//admin/stats", "/admin//stats", "/admin/../admin/stats", "/./admin/stats",
        "/q/../admin/stats", "/%61dmin/stats", "/admin%2Fstats", "/admin/stats/", "/admin/stats;x=1", "/admin/stats?x=1",
        "/ADMIN/stats", "/admin/%73tats", "/admin/pools", "//admin/pools/"})
    void noSpellingOfAnAdminPathAnswersWithoutTheToken(String path) throws Exception {
        String response = request("GET", path);
        String status = response.substring(0, response.indexOf("\r\n"));
        assertFalse(status.contains(" 200 "), path + " answered without the token: " + status);
        assertFalse(response.contains("capacity_bytes"), path + " leaked the stats");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin/capacity", "//admin/capacity", "/admin/../admin/capacity", "/%61dmin/capacity"})
    void noSpellingChangesTheBudgetWithoutTheToken(String path) throws Exception {
        String response = request("PUT", path);
        String status = response.substring(0, response.indexOf("\r\n"));
        assertFalse(status.contains(" 200 ") || status.contains(" 204 "), path + " accepted without the token: " + status);
        String stats = request("GET", "/q/health/live");
        assertEquals(true, stats.contains("UP"), "the donor is still up");
    }
}
