package dev.pagepool.node.handback;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** A short ack timeout and pressure period, so tests see timeouts and enforcement within seconds. */
public class HandbackTestProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pagepool.handback.ack-timeout", "1s", "pagepool.pressure.period", "100ms");
    }
}
