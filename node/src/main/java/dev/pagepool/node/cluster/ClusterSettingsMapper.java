package dev.pagepool.node.cluster;

import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.node.config.NodeConfig;

/** Turns the donor's {@code pagepool.cluster.*} config into the discovery module's {@link ClusterSettings}. */
final class ClusterSettingsMapper {
    private ClusterSettingsMapper() {
    }

    static ClusterSettings from(NodeConfig.Cluster cluster) {
        return new ClusterSettings(
            cluster.name(),
            ClusterSettings.parseMembers(cluster.members()),
            cluster.port(),
            cluster.kubernetes().serviceDns().orElse(""),
            cluster.heartbeatInterval(),
            cluster.failureTimeout());
    }
}
