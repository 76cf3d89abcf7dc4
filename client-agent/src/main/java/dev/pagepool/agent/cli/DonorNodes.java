package dev.pagepool.agent.cli;

import dev.pagepool.agent.client.ClientConfig;
import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorInfo;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The donors a command talks to: given by address ({@code --nodes}), or learnt from the cluster's Hazelcast
 * membership ({@code --members}), where every donor publishes its data endpoint.
 */
final class DonorNodes {
    /** How long to wait for at least one donor to show up in a cluster that was reached. */
    private static final Duration DONORS_TIMEOUT = Duration.ofSeconds(15);

    private DonorNodes() {
    }

    static List<InetSocketAddress> resolve(String nodes, String members, String clusterName) throws InterruptedException {
        if ((nodes == null) == (members == null)) {
            throw new IllegalArgumentException("give either --nodes (data endpoints) or --members (Hazelcast members)");
        }
        if (nodes != null) {
            return ClientConfig.parseNodes(nodes);
        }
        try (ClusterView view = ClusterView.connect(clusterName, ClusterSettings.parseMembers(members),
                ClusterView.DEFAULT_STARTUP_TIMEOUT)) {
            long deadline = System.nanoTime() + DONORS_TIMEOUT.toNanos();
            List<DonorInfo> donors = view.donors();
            while (donors.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                donors = view.donors();
            }
            if (donors.isEmpty()) {
                throw new IllegalStateException("cluster '" + clusterName + "' at " + members + " has no donor");
            }
            return donors.stream().map(d -> InetSocketAddress.createUnresolved(d.host(), d.dataPort())).toList();
        }
    }
}
