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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A client that asks for megabytes and reads none of them holds a bounded slice of the reserve, not all of it. */
@QuarkusTest
@TestProfile(SlowReaderTest.PatientProfile.class)
class SlowReaderTest {
    /** The hardened donor with an idle timeout long enough for a loaded machine to run the whole test. */
    public static class PatientProfile extends HardenedProfile {
        @Override
        public java.util.Map<String, String> getConfigOverrides() {
            java.util.Map<String, String> overrides = new java.util.HashMap<>(super.getConfigOverrides());
            overrides.put("pagepool.node.idle-timeout", "60s");
            return overrides;
        }
    }

    /** Full 256-page GETs the slow reader sends: 100 MiB of replies, far more than socket buffers absorb. */
    private static final int GETS = 100;

    @Inject
    DataServer server;
    @Inject
    BufferReserve reserve;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSlowReaderHoldsAtMostItsShareOfTheReserveAndOthersAreServed() throws Exception {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(5).nextBytes(page);
        try (DataPortClient slow = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN);
             DataPortClient other = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            int slowPool = slow.newPool(true);
            int otherPool = other.newPool(true);
            // Within each client's page limit of 100.
            slow.put(slowPool, 1, 0, 64, page);
            other.put(otherPool, 1, 0, 64, page);
            for (int i = 0; i < GETS; i++) {
                slow.sendGet(slowPool, 1, 0, 64);
            }
            Thread.sleep(1000); // the donor has served what it would and stopped reading the slow reader
            long held = reserve.usedBytes();
            // The cap, plus the frame that was being served when it was reached.
            long bound = HardenedProfile.MAX_RESERVE_PER_CONNECTION + BufferReserve.LARGE_BUFFER_BYTES;
            assertTrue(held <= bound, "the slow reader holds " + held + " reserve bytes; its share is " + bound);
            for (int round = 0; round < 10; round++) {
                int[] got = other.get(otherPool, 1, 0, 64);
                for (int status : got) {
                    assertEquals(Status.PAGE_OK, status, "another client is served while the slow reader reads nothing");
                }
            }
            long busy = given().header("Authorization", "Bearer " + HardenedProfile.TOKEN).when().get("/admin/stats")
                .then().statusCode(200).extract().jsonPath().getLong("busy_replies");
            assertEquals(0, busy, "nobody was turned away for want of a buffer");
        }
    }
}
