package dev.pagepool.node.handback;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** A drain cannot be undone: drain tests get an application of their own. */
public class DrainTestProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("pagepool.node.drain-timeout", "20s", "pagepool.handback.ack-timeout", "2s");
    }
}
