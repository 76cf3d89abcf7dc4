package dev.pagepool.node.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * Every setting of a donor, under the {@code pagepool} prefix (also as env vars and {@code -D}).
 * The outside contract (CONTRACT.md) fixes the names of data-port, capacity, reserve, auth.token and
 * cluster.*; the rest are tuning knobs whose defaults suit a blade with a few GiB to give.
 * {@link NodeSettings} turns these into checked values and refuses impossible combinations at start.
 */
@ConfigMapping(prefix = "pagepool")
public interface NodeConfig {
    Node node();

    Auth auth();

    Cluster cluster();

    interface Node {
        /** Name shown to clients and in the cluster; defaults to host name and data port. */
        Optional<String> name();

        @WithDefault("127.0.0.1")
        String dataHost();

        @WithDefault("7410")
        int dataPort();

        /** RAM budget for stored pages (slab bytes in use, after compression). */
        @WithDefault("256m")
        MemorySize capacity();

        /** Buffers pre-allocated at start for the data path; see BufferReserve. */
        @WithDefault("16m")
        MemorySize reserve();

        /** Size of the direct-memory chunks the page store grows by. */
        @WithDefault("32m")
        MemorySize chunk();

        @WithDefault("true")
        boolean compression();

        /** Replies a connection may have queued before the server stops reading from it. */
        @WithDefault("64")
        int maxInflightPerConnection();

        @WithDefault("120s")
        Duration idleTimeout();

        @WithDefault("1024")
        int maxConnections();

        /**
         * How long a client's private pools outlive its last connection. A client that reconnects within it
         * finds its pages; one that does not has its private pools destroyed.
         */
        @WithDefault("30s")
        Duration lease();
    }

    interface Auth {
        /** Shared token clients present in HELLO. Empty disables auth, allowed only on a loopback data host. */
        Optional<String> token();
    }

    interface Cluster {
        @WithDefault("pagepool")
        String name();

        @WithDefault("127.0.0.1")
        String members();

        @WithDefault("5701")
        int port();

        /** False runs a lone donor without a Hazelcast member (no discovery, no load publication). */
        @WithDefault("true")
        boolean enabled();

        /** Members heartbeat each other this often (whole seconds). */
        @WithDefault("1s")
        Duration heartbeatInterval();

        /** A member silent for this long is declared dead and removed (Hazelcast's default is 60 s). */
        @WithDefault("5s")
        Duration failureTimeout();

        Kubernetes kubernetes();

        interface Kubernetes {
            /** DNS name of the donors' headless Service; when set, members are found through it instead of members. */
            Optional<String> serviceDns();
        }
    }
}
