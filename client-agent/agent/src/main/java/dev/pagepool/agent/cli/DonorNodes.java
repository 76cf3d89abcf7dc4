package dev.pagepool.agent.cli;

import dev.pagepool.agent.cluster.ClusterFollower;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorInfo;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The donors a command talks to: given by address ({@code --nodes}), or learnt from the cluster's Hazelcast
 * membership ({@code --members}), where every donor publishes its data endpoint. With membership the view stays
 * open for the command's lifetime, so that the client hears of donors leaving and joining.
 */
final class DonorNodes implements AutoCloseable {
    /** How long to wait for at least one donor to show up in a cluster that was reached. */
    private static final Duration DONORS_TIMEOUT = Duration.ofSeconds(15);

    private final List<InetSocketAddress> addresses;
    private final ClusterView view;

    private DonorNodes(List<InetSocketAddress> addresses, ClusterView view) {
        this.addresses = addresses;
        this.view = view;
    }

    static DonorNodes resolve(String nodes, String members, String clusterName) throws InterruptedException {
        if ((nodes == null) == (members == null)) {
            throw new IllegalArgumentException("give either --nodes (data endpoints) or --members (Hazelcast members)");
        }
        if (nodes != null) {
            return new DonorNodes(ClientConfig.parseNodes(nodes), null);
        }
        ClusterView view = ClusterView.connect(clusterName, ClusterSettings.parseMembers(members),
            ClusterView.DEFAULT_STARTUP_TIMEOUT);
        try {
            long deadline = System.nanoTime() + DONORS_TIMEOUT.toNanos();
            List<DonorInfo> donors = view.donors();
            while (donors.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
                donors = view.donors();
            }
            if (donors.isEmpty()) {
                throw new IllegalStateException("cluster '" + clusterName + "' at " + members + " has no donor");
            }
            return new DonorNodes(donors.stream().map(d -> InetSocketAddress.createUnresolved(d.host(), d.dataPort())).toList(),
                view);
        } catch (RuntimeException | InterruptedException e) {
            view.close();
            throw e;
        }
    }

    List<InetSocketAddress> addresses() {
        return addresses;
    }

    /** Connects a client to the donors, following the membership when there is one. */
    PagePoolClient connect(ClientConfig config) {
        return follow(PagePoolClient.connect(config));
    }

    /** The same, on the caller's Vert.x instance (the caller closes it). */
    PagePoolClient connect(ClientConfig config, io.vertx.core.Vertx vertx) {
        return follow(PagePoolClient.connect(config, vertx));
    }

    private PagePoolClient follow(PagePoolClient client) {
        if (view != null) {
            ClusterFollower.follow(client, view);
        }
        return client;
    }

    @Override
    public void close() {
        if (view != null) {
            view.close();
        }
    }
}
