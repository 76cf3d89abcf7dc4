package dev.pagepool.discovery;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Where the donors' Hazelcast cluster is and how quickly a dead member is declared dead.
 *
 * @param clusterName           Hazelcast cluster name; members and clients of other names are refused
 * @param members               TCP-IP join addresses ({@code host} or {@code host:port}); ignored when
 *                              {@code kubernetesServiceDns} is set
 * @param port                  the member's own port (auto-incremented when taken, see {@link MemberConfigFactory})
 * @param kubernetesServiceDns  DNS name of a headless Service ({@code pagepool-hz.ns.svc.cluster.local}); blank means
 *                              TCP-IP join with {@code members}
 * @param heartbeatInterval     how often members heartbeat each other (whole seconds, at least 1)
 * @param failureTimeout        a member silent for this long is removed from the cluster (whole seconds)
 */
public record ClusterSettings(
    String clusterName,
    List<String> members,
    int port,
    String kubernetesServiceDns,
    Duration heartbeatInterval,
    Duration failureTimeout) {

    public static final int DEFAULT_PORT = 5701;
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_FAILURE_TIMEOUT = Duration.ofSeconds(5);

    public ClusterSettings {
        Objects.requireNonNull(clusterName, "clusterName");
        members = List.copyOf(members);
        kubernetesServiceDns = kubernetesServiceDns == null ? "" : kubernetesServiceDns.trim();
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(failureTimeout, "failureTimeout");
        List<String> problems = new ArrayList<>();
        if (clusterName.isBlank()) {
            problems.add("cluster name must not be blank");
        }
        if (port < 1 || port > 65535) {
            problems.add("cluster port must be 1..65535, got " + port);
        }
        if (heartbeatInterval.toSeconds() < 1) {
            problems.add("heartbeat interval must be at least 1s, got " + heartbeatInterval);
        }
        if (failureTimeout.toSeconds() < 2 * Math.max(1, heartbeatInterval.toSeconds())) {
            problems.add("failure timeout must be at least two heartbeat intervals, got " + failureTimeout);
        }
        if (members.isEmpty() && kubernetesServiceDns.isEmpty()) {
            problems.add("give either cluster members (host:port,...) or a Kubernetes service DNS name");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("impossible cluster configuration: " + String.join("; ", problems));
        }
    }

    /** TCP-IP join with the default failure detection. */
    public static ClusterSettings tcpIp(String clusterName, List<String> members, int port) {
        return new ClusterSettings(clusterName, members, port, "", DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_FAILURE_TIMEOUT);
    }

    /** Splits a comma-separated member list ({@code "10.0.0.1:5701, 10.0.0.2"}), dropping blanks. */
    public static List<String> parseMembers(String csv) {
        if (csv == null) {
            return List.of();
        }
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    public boolean kubernetes() {
        return !kubernetesServiceDns.isEmpty();
    }

    public ClusterSettings withFailureDetection(Duration heartbeat, Duration timeout) {
        return new ClusterSettings(clusterName, members, port, kubernetesServiceDns, heartbeat, timeout);
    }
}
