package dev.pagepool.discovery;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.spi.properties.ClusterProperty;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Builds the embedded member's Hazelcast {@link Config} in code (no XML, nothing picked up from the classpath or
 * the working directory, so a stray {@code hazelcast.xml} cannot change a donor's behaviour).
 *
 * <p>Join: TCP-IP with {@link ClusterSettings#members()}, or, when a service DNS name is set, Hazelcast's built-in
 * Kubernetes discovery in DNS-lookup mode against a headless Service (no API access, no RBAC needed). Multicast
 * and auto-detection are always off: a donor never joins a cluster nobody configured. When every configured
 * member is a loopback address the member binds to 127.0.0.1 only, so a local test cluster stays off the network.
 *
 * <p>Failure detection ({@link ClusterSettings} defaults): members heartbeat every
 * {@code hazelcast.heartbeat.interval.seconds=1} and a member silent for {@code hazelcast.max.no.heartbeat.seconds=5}
 * is removed (Hazelcast's default is 60 s, far too slow for swap). A process that dies outright (kill -9, crash)
 * is usually noticed sooner, because its peers' connections to it fail ({@code hazelcast.connection.monitor.*}).
 * A member cut off and then back (a frozen process, a partition) merges back after
 * {@code hazelcast.merge.first.run.delay.seconds=5} / {@code hazelcast.merge.next.run.delay.seconds=5}.
 *
 * <p>Fast start and clean stop: {@code hazelcast.wait.seconds.before.join=0}, {@code hazelcast.partition.count=23}
 * (the only partitioned data is one small entry per donor), {@code hazelcast.phone.home.enabled=false},
 * {@code hazelcast.shutdownhook.enabled=false} (the application shuts the member down itself, after draining),
 * {@code hazelcast.graceful.shutdown.max.wait=10}, logging through {@code java.util.logging} (which Quarkus routes
 * to its own log).
 */
public final class MemberConfigFactory {
    public static final int PARTITION_COUNT = 23;
    /** Ports tried above {@link ClusterSettings#port()} when it is taken (several donors on one host). */
    public static final int PORT_COUNT = 20;
    /** How long a TCP-IP join waits for a listed member that does not answer. */
    public static final int JOIN_CONNECTION_TIMEOUT_SECONDS = 2;
    public static final int MERGE_DELAY_SECONDS = 5;
    public static final int GRACEFUL_SHUTDOWN_MAX_WAIT_SECONDS = 10;

    private MemberConfigFactory() {
    }

    public static Config create(ClusterSettings settings, DonorEndpoint endpoint) {
        Config config = new Config();
        config.setClusterName(settings.clusterName());
        config.getMemberAttributeConfig().setAttributes(endpoint.toAttributes());
        properties(config, settings);
        network(config, settings);
        config.getMetricsConfig().setEnabled(false);
        config.getJetConfig().setEnabled(false);
        config.getSerializationConfig().getCompactSerializationConfig().addSerializer(new DonorLoadSerializer());
        config.addMapConfig(new MapConfig(DonorDirectory.LOAD_MAP)
            .setBackupCount(1)
            .setStatisticsEnabled(false)
            // A backstop only: departed donors' entries are removed on the membership event (DonorDirectory).
            .setTimeToLiveSeconds(DonorDirectory.loadTtlSeconds(settings)));
        return config;
    }

    private static void properties(Config config, ClusterSettings settings) {
        set(config, ClusterProperty.PHONE_HOME_ENABLED, "false");
        set(config, ClusterProperty.SHUTDOWNHOOK_ENABLED, "false");
        set(config, ClusterProperty.WAIT_SECONDS_BEFORE_JOIN, "0");
        set(config, ClusterProperty.PARTITION_COUNT, Integer.toString(PARTITION_COUNT));
        set(config, ClusterProperty.HEARTBEAT_INTERVAL_SECONDS, Long.toString(settings.heartbeatInterval().toSeconds()));
        set(config, ClusterProperty.MAX_NO_HEARTBEAT_SECONDS, Long.toString(settings.failureTimeout().toSeconds()));
        set(config, ClusterProperty.CLIENT_HEARTBEAT_TIMEOUT_SECONDS, Long.toString(2 * settings.failureTimeout().toSeconds()));
        set(config, ClusterProperty.MERGE_FIRST_RUN_DELAY_SECONDS, Integer.toString(MERGE_DELAY_SECONDS));
        set(config, ClusterProperty.MERGE_NEXT_RUN_DELAY_SECONDS, Integer.toString(MERGE_DELAY_SECONDS));
        set(config, ClusterProperty.GRACEFUL_SHUTDOWN_MAX_WAIT, Integer.toString(GRACEFUL_SHUTDOWN_MAX_WAIT_SECONDS));
        set(config, ClusterProperty.LOGGING_TYPE, "jdk");
    }

    private static void network(Config config, ClusterSettings settings) {
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(settings.port()).setPortAutoIncrement(true).setPortCount(PORT_COUNT);
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (settings.kubernetes()) {
            join.getTcpIpConfig().setEnabled(false);
            join.getKubernetesConfig().setEnabled(true)
                .setProperty("service-dns", settings.kubernetesServiceDns())
                .setProperty("service-port", Integer.toString(settings.port()));
            return;
        }
        join.getTcpIpConfig().setEnabled(true)
            .setConnectionTimeoutSeconds(JOIN_CONNECTION_TIMEOUT_SECONDS)
            .setMembers(settings.members());
        if (allLoopback(settings.members())) {
            network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
            set(config, ClusterProperty.SOCKET_BIND_ANY, "false");
        }
    }

    static boolean allLoopback(List<String> members) {
        if (members.isEmpty()) {
            return false;
        }
        for (String member : members) {
            String host = hostOf(member);
            try {
                if (!InetAddress.getByName(host).isLoopbackAddress()) {
                    return false;
                }
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return true;
    }

    /** {@code "10.0.0.1:5701"} → {@code "10.0.0.1"}; {@code "[::1]:5701"} → {@code "::1"}; a bare host as is. */
    static String hostOf(String member) {
        if (member.startsWith("[")) {
            int end = member.indexOf(']');
            return end > 0 ? member.substring(1, end) : member;
        }
        int colon = member.indexOf(':');
        return colon >= 0 && colon == member.lastIndexOf(':') ? member.substring(0, colon) : member;
    }

    private static void set(Config config, com.hazelcast.spi.properties.HazelcastProperty property, String value) {
        config.setProperty(property.getName(), value);
    }
}
