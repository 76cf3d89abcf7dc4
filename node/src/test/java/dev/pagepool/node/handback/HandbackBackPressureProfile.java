package dev.pagepool.node.handback;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/**
 * A short ack timeout and pressure period, as {@link HandbackTestProfile}, and a reserve with room for several
 * hand-back frames (a quarter of its 23 frame-sized buffers: 5), so one owner's stall can be told from the share.
 */
public class HandbackBackPressureProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pagepool.handback.ack-timeout", "1s", "pagepool.pressure.period", "100ms",
            "pagepool.node.reserve", "32m", "pagepool.node.idle-timeout", "120s");
    }
}
