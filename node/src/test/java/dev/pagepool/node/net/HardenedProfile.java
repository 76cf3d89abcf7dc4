package dev.pagepool.node.net;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.Map;

/** A donor with a token and tight limits, so that each limit is reached within a test's few seconds. */
public class HardenedProfile implements QuarkusTestProfile {
    static final String TOKEN = "hardened-test-token-0123456789";
    static final int MAX_STRANGERS = 4;
    static final long HELLO_TIMEOUT_MILLIS = 1000;
    static final long IDLE_TIMEOUT_MILLIS = 3000;
    static final long MAX_RESERVE_PER_CONNECTION = 2L << 20;
    static final int MAX_POOLS_PER_CLIENT = 3;
    static final int MAX_PAGES_PER_CLIENT = 100;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
            "pagepool.auth.token", TOKEN,
            "pagepool.node.max-unauthenticated-connections", Integer.toString(MAX_STRANGERS),
            "pagepool.node.hello-timeout", HELLO_TIMEOUT_MILLIS + "ms",
            "pagepool.node.idle-timeout", IDLE_TIMEOUT_MILLIS + "ms",
            "pagepool.node.max-reserve-per-connection", Long.toString(MAX_RESERVE_PER_CONNECTION),
            "pagepool.node.max-pools-per-client", Integer.toString(MAX_POOLS_PER_CLIENT),
            "pagepool.node.max-pages-per-client", Integer.toString(MAX_PAGES_PER_CLIENT));
    }
}
