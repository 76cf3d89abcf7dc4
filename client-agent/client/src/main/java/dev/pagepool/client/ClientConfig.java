package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How a client reaches the donors.
 *
 * @param nodes              donors' data endpoints
 * @param token              the cluster token ("" when the donors run without one, on loopback)
 * @param clientId           who owns the private pools this client creates; keep it stable to reuse them
 * @param connectionsPerNode TCP connections to each donor (requests are spread over them)
 * @param maxInflight        requests a connection may have outstanding; more wait for a reply (back-pressure)
 * @param connectTimeout     bound on connecting and saying HELLO
 * @param requestTimeout     bound on waiting for a reply; a donor that takes longer is treated as gone
 * @param keepAlive          an idle connection sends a PING this often, so the donor neither closes it as idle
 *                           nor lets this client's lease on its private pools run out
 * @param tls                TLS towards the donors, or {@link ClientTls#OFF}
 * @param stallTimeout       how long a request whose every copy is on suspect donors (silent, not known gone) waits
 *                           for one of them to answer again before it fails; after that long a silent donor is
 *                           taken for gone. Compare with the kernel's NBD request timeout, and keep the donors'
 *                           lease well above it.
 * @param poolSecret         the secret of this client's private pools: only connections that prove it reach them, so
 *                           keep it (with the client id) to resume them after a restart
 */
public record ClientConfig(List<InetSocketAddress> nodes, String token, long clientId, int connectionsPerNode,
                           int maxInflight, Duration connectTimeout, Duration requestTimeout, Duration keepAlive,
                           ClientTls tls, Duration stallTimeout, PoolSecret poolSecret) {
    /** The default stall bound: the Linux kernel's NBD request timeout is 30 s. */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(30);

    /** With a fresh random pool secret. */
    public ClientConfig(List<InetSocketAddress> nodes, String token, long clientId, int connectionsPerNode,
                        int maxInflight, Duration connectTimeout, Duration requestTimeout, Duration keepAlive,
                        ClientTls tls, Duration stallTimeout) {
        this(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, tls,
            stallTimeout, PoolSecret.random());
    }

    /** With the default stall bound. */
    public ClientConfig(List<InetSocketAddress> nodes, String token, long clientId, int connectionsPerNode,
                        int maxInflight, Duration connectTimeout, Duration requestTimeout, Duration keepAlive,
                        ClientTls tls) {
        this(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, tls,
            DEFAULT_STALL_TIMEOUT);
    }

    /** Plain TCP, as before TLS was an option. */
    public ClientConfig(List<InetSocketAddress> nodes, String token, long clientId, int connectionsPerNode,
                        int maxInflight, Duration connectTimeout, Duration requestTimeout, Duration keepAlive) {
        this(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, ClientTls.OFF);
    }

    public ClientConfig {
        if (poolSecret == null) {
            poolSecret = PoolSecret.random();
        }
        if (tls == null) {
            tls = ClientTls.OFF;
        }
        if (stallTimeout == null) {
            stallTimeout = DEFAULT_STALL_TIMEOUT;
        }
        if (stallTimeout.isNegative() || stallTimeout.isZero()) {
            throw new IllegalArgumentException("stallTimeout must be positive, got " + stallTimeout);
        }
        nodes = List.copyOf(nodes);
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("at least one donor address is needed");
        }
        if (token == null) {
            token = "";
        }
        if (connectionsPerNode < 1 || connectionsPerNode > 64) {
            throw new IllegalArgumentException("connectionsPerNode must be 1..64, got " + connectionsPerNode);
        }
        if (maxInflight < 1 || maxInflight > 1024) {
            throw new IllegalArgumentException("maxInflight must be 1..1024, got " + maxInflight);
        }
        if (keepAlive.isNegative() || keepAlive.isZero()) {
            throw new IllegalArgumentException("keepAlive must be positive, got " + keepAlive);
        }
        if (token.length() > Frame.MAX_TOKEN_BYTES) {
            throw new IllegalArgumentException("token longer than " + Frame.MAX_TOKEN_BYTES + " bytes");
        }
    }

    /**
     * One connection per donor, a random client id, 2 s to connect, 2 s per request, a PING every 20 s idle. A
     * donor serves a request in microseconds; one that leaves a request unanswered for 2 s is frozen or gone, and
     * failing over to a replica then costs the caller at most that long.
     */
    public static ClientConfig of(List<InetSocketAddress> nodes, String token) {
        return new ClientConfig(nodes, token, ThreadLocalRandom.current().nextLong(), 1, 64,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20));
    }

    public ClientConfig withClientId(long id) {
        return new ClientConfig(nodes, token, id, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, tls, stallTimeout, poolSecret);
    }

    public ClientConfig withConnectionsPerNode(int n) {
        return new ClientConfig(nodes, token, clientId, n, maxInflight, connectTimeout, requestTimeout, keepAlive, tls, stallTimeout, poolSecret);
    }

    public ClientConfig withKeepAlive(Duration every) {
        return new ClientConfig(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, every, tls, stallTimeout, poolSecret);
    }

    public ClientConfig withTls(ClientTls t) {
        return new ClientConfig(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, t, stallTimeout, poolSecret);
    }

    public ClientConfig withStallTimeout(Duration bound) {
        return new ClientConfig(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, tls, bound, poolSecret);
    }

    /** The same client with {@code secret} for its private pools (the one its pools were made with, to resume them). */
    public ClientConfig withPoolSecret(PoolSecret secret) {
        return new ClientConfig(nodes, token, clientId, connectionsPerNode, maxInflight, connectTimeout, requestTimeout, keepAlive, tls, stallTimeout, secret);
    }

    /** Parses "host:port,host:port". */
    public static List<InetSocketAddress> parseNodes(String list) {
        return java.util.Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(s -> {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new IllegalArgumentException("expected HOST:PORT, got '" + s + "'");
            }
            return InetSocketAddress.createUnresolved(s.substring(0, colon), Integer.parseInt(s.substring(colon + 1)));
        }).toList();
    }
}
