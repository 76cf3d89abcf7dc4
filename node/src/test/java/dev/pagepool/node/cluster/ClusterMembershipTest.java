package dev.pagepool.node.cluster;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.node.net.DataServer;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/** A donor with its cluster membership on: it joins, becomes ready, is seen by a client view, and leaves. */
@QuarkusTest
@TestProfile(ClusterMembershipTest.ClusterOn.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(60)
class ClusterMembershipTest {
    static final String CLUSTER = "node-test-" + UUID.randomUUID();
    static final int PORT = freePort();

    public static class ClusterOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                "pagepool.cluster.enabled", "true",
                "pagepool.cluster.name", CLUSTER,
                "pagepool.cluster.members", "127.0.0.1:" + PORT,
                "pagepool.cluster.port", Integer.toString(PORT),
                "pagepool.node.name", "node-under-test");
        }
    }

    @Inject
    ClusterMembership membership;
    @Inject
    DataServer dataServer;

    @Test
    @Order(1)
    void joinsAndBecomesReady() {
        await(Duration.ofSeconds(30), "joined", () -> membership.state() == ClusterMembership.State.JOINED);
        given().when().get("/q/health/ready").then()
            .statusCode(200)
            .body("checks.name", hasItem("cluster"))
            .body("checks.find { it.name == 'cluster' }.status", equalTo("UP"))
            .body("checks.find { it.name == 'cluster' }.data.members", equalTo(1));
    }

    @Test
    @Order(2)
    void aClientViewSeesTheDonorWithItsEndpointAndLoad() {
        await(Duration.ofSeconds(30), "joined", () -> membership.state() == ClusterMembership.State.JOINED);
        try (ClusterView view = ClusterView.connect(CLUSTER, List.of("127.0.0.1:" + PORT), Duration.ofSeconds(10))) {
            await(Duration.ofSeconds(10), "donor with load", () -> view.donors().size() == 1 && view.donors().get(0).loadKnown());
            DonorInfo donor = view.donors().get(0);
            assertEquals("node-under-test", donor.name());
            assertEquals(dataServer.port(), donor.dataPort());
            assertEquals(RestAssured.port, donor.httpPort(), "the http port actually bound");
            assertEquals(64L << 20, donor.capacityBytes(), "the test profile's capacity");
            assertEquals(membership.member().orElseThrow().uuid(), donor.memberUuid());
            assertEquals(DataServer.donorId(), donor.donorId(), "the id it proves in its handshake is published");
        }
    }

    @Test
    @Order(3)
    void leavingMakesTheDonorUnready() {
        membership.leave();
        assertEquals(ClusterMembership.State.LEFT, membership.state());
        assertTrue(membership.member().isEmpty());
        given().when().get("/q/health/ready").then()
            .statusCode(503)
            .body("checks.find { it.name == 'cluster' }.status", equalTo("DOWN"));
    }

    private static void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
