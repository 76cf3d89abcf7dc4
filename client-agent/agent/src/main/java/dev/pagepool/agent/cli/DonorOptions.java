package dev.pagepool.agent.cli;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.ClientTls;
import dev.pagepool.client.PagePoolClient;
import java.nio.file.Path;
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
    @Option(names = "--tls-ca", defaultValue = "${env:PAGEPOOL_TLS_CA:-}", description = "Speak TLS to the donors, trusting "
        + "the CA in this PEM file and checking that each donor's certificate names the host it is reached at "
        + "(env PAGEPOOL_TLS_CA). Without it pages travel in clear, protected against mistakes (CRC32C) but not "
        + "against an attacker on the network.")
    String tlsCa;
    @Option(names = "--tls-cert", defaultValue = "${env:PAGEPOOL_TLS_CERT:-}", description = "PEM certificate this host "
        + "presents to donors that ask for one (pagepool.tls.client-ca); with --tls-key (env PAGEPOOL_TLS_CERT).")
    String tlsCert;
    @Option(names = "--tls-key", defaultValue = "${env:PAGEPOOL_TLS_KEY:-}", description = "PEM private key of "
        + "--tls-cert (env PAGEPOOL_TLS_KEY).")
    String tlsKey;

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
        return ClientConfig.of(donors.addresses(), token).withConnectionsPerNode(connections).withTls(tls());
    }

    /** TLS as the options say; refused with what is wrong when they do not fit together or a file is unreadable. */
    ClientTls tls() {
        boolean ca = !tlsCa.isBlank();
        boolean cert = !tlsCert.isBlank();
        boolean key = !tlsKey.isBlank();
        if (!ca) {
            if (cert || key) {
                throw new IllegalArgumentException("--tls-cert and --tls-key are for TLS: give --tls-ca too");
            }
            return ClientTls.OFF;
        }
        if (cert != key) {
            throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both, or neither");
        }
        ClientTls tls = ClientTls.trusting(Path.of(tlsCa));
        return cert ? tls.withClientCertificate(Path.of(tlsCert), Path.of(tlsKey)) : tls;
    }
}
