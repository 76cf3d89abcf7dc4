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

    Admin admin();

    Cluster cluster();

    Pressure pressure();

    Watermark watermark();

    Handback handback();

    Tls tls();

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

        /** A data connection on which no whole frame arrived or left for this long is closed. */
        @WithDefault("120s")
        Duration idleTimeout();

        @WithDefault("1024")
        int maxConnections();

        /** A connection that has not completed the HELLO/AUTH handshake within this is closed. */
        @WithDefault("5s")
        Duration helloTimeout();

        /**
         * Connections accepted at once that have not completed the handshake, counted apart from
         * {@code max-connections}: strangers can never crowd out the cluster's own clients.
         */
        @WithDefault("64")
        int maxUnauthenticatedConnections();

        /**
         * Reserve bytes one connection may hold in replies the client has not taken yet; above it the donor
         * stops reading that connection, so one slow reader cannot starve the others. 0: a quarter of the
         * reserve, and at least one full frame.
         */
        @WithDefault("0")
        MemorySize maxReservePerConnection();

        /** Pools (private, or shared ones it created) one client id may have on this donor. */
        @WithDefault("1024")
        int maxPoolsPerClient();

        /** Pages one client id may store in the pools it owns; 0 is no limit but the donor's budget. */
        @WithDefault("0")
        long maxPagesPerClient();

        /**
         * Pages this donor holds at most, whatever they compress to: the index lives on the JVM heap. 0 derives
         * it from the heap ({@code -Xmx}), see PageIndexBudget.
         */
        @WithDefault("0")
        long maxPages();

        /**
         * How long a client's private pools outlive its last connection. A client that reconnects within it
         * finds its pages; one that does not has its private pools destroyed. Four times the agent's default stall
         * bound (30 s): an agent that waits out a stall, or restarts, must find its pools still there.
         */
        @WithDefault("120s")
        Duration lease();

        /**
         * How long a drain (POST /admin/drain, or SIGTERM) may spend handing persistent pages back before it
         * gives up on the rest; pages still held then are reported, and lost when the process exits.
         */
        @WithDefault("30s")
        Duration drainTimeout();
    }

    /** The machine's own memory pressure, which shrinks the donor's effective budget below the operator's. */
    interface Pressure {
        /** False ignores every signal: the effective budget is the operator's. */
        @WithDefault("true")
        boolean enabled();

        /** How often the signals are read and the watermarks enforced. */
        @WithDefault("1s")
        Duration period();

        /** cgroup v2: the donor keeps its cgroup's memory.current at or below this fraction of memory.max; 0 disables. */
        @WithDefault("0.95")
        double cgroupMaxFraction();

        /** PSI: above this "some avg10" (percent of time stalled on memory) the donor sheds memory; 0 disables. */
        @WithDefault("20.0")
        double psiSomeAvg10();

        /** /proc/meminfo: the donor keeps at least this much MemAvailable for its machine; 0 disables. */
        @WithDefault("256m")
        MemorySize minAvailable();

        /** Where /proc is (tests point it at a temporary tree). */
        @WithDefault("/proc")
        String procRoot();

        /** Where the cgroup v2 hierarchy is mounted. */
        @WithDefault("/sys/fs/cgroup")
        String cgroupRoot();
    }

    /** Watermarks, as fractions of the effective budget; see the README. */
    interface Watermark {
        /** Above: ephemeral puts recycle cold ephemeral pages, and a background sweep evicts them down to this. */
        @WithDefault("0.85")
        double high();

        /** Above: new puts are rejected and ephemeral pages dropped; the donor reports itself not ready. */
        @WithDefault("0.95")
        double low();

        /** Above (or the budget shrunk below use): persistent pages are handed back to their owners until below low. */
        @WithDefault("1.0")
        double min();
    }

    interface Handback {
        /** A HANDBACK frame not answered within this is forgotten: its pages stay and are sent again later. */
        @WithDefault("10s")
        Duration ackTimeout();
    }

    /**
     * TLS on the data port (PEM files; Vert.x). Both set: TLS on; neither: plain TCP; one alone is refused. The
     * admin HTTP's TLS is Quarkus's own ({@code quarkus.tls.*}, {@code quarkus.http.insecure-requests}).
     */
    interface Tls {
        /** PEM certificate chain the donor presents. */
        Optional<String> cert();

        /** PEM private key (PKCS#8 or PKCS#1) of that certificate. */
        Optional<String> key();

        /** PEM CA that clients' certificates must chain to: set, a client without such a certificate is refused. */
        Optional<String> clientCa();
    }

    interface Auth {
        /** Shared token clients present in HELLO. Empty disables auth, allowed only on a loopback data host. */
        Optional<String> token();
    }

    interface Admin {
        /**
         * Token of the admin API ({@code Authorization: Bearer}), apart from the data token every agent host holds: only
         * it changes the donor (capacity, drain) and sees who owns which pool. Unset: nobody changes a donor that
         * has a data token, and a donor with neither token serves its admin API on loopback only.
         */
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
