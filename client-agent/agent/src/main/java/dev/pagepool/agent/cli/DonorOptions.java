package dev.pagepool.agent.cli;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import picocli.CommandLine.Option;

/** How a command reaches the donors: by address or through the cluster's membership, and with which token. */
final class DonorOptions {
    @Option(names = "--nodes", description = "Donors' data endpoints HOST:PORT,...")
    String nodes;
    @Option(names = "--members", description = "Instead of --nodes: Hazelcast members HOST:PORT,... to learn the donors from.")
    String members;
    @Option(names = "--cluster-name", defaultValue = "pagepool", description = "Hazelcast cluster name (default ${DEFAULT-VALUE}).")
    String clusterName;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}", description = "Cluster token (env PAGEPOOL_TOKEN).")
    String token;

    DonorNodes resolve() throws InterruptedException {
        return DonorNodes.resolve(nodes, members, clusterName);
    }

    /** A client of the donors found, with {@code connections} connections to each. */
    PagePoolClient connect(DonorNodes donors, int connections) {
        return donors.connect(config(donors, connections));
    }

    /** The same, on the caller's Vert.x: its event loops then serve the client's connections too. */
    PagePoolClient connect(DonorNodes donors, int connections, io.vertx.core.Vertx vertx) {
        return donors.connect(config(donors, connections), vertx);
    }

    /**
     * The same, with the bound on waiting for silent donors ({@code --stall-timeout}) and the client id the pools
     * belong to (an agent's, kept in its state so that a restarted agent finds them).
     */
    PagePoolClient connect(DonorNodes donors, int connections, io.vertx.core.Vertx vertx, java.time.Duration stallTimeout,
                           long clientId, dev.pagepool.client.PoolSecret poolSecret) {
        return donors.connect(config(donors, connections).withStallTimeout(stallTimeout).withClientId(clientId)
            .withPoolSecret(poolSecret), vertx);
    }

    private ClientConfig config(DonorNodes donors, int connections) {
        return ClientConfig.of(donors.addresses(), token).withConnectionsPerNode(connections);
    }
}
