package dev.pagepool.node.config;

import dev.pagepool.node.pressure.PressureSettings;
import dev.pagepool.node.pressure.Watermarks;
import dev.pagepool.protocol.Frame;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The donor's settings after checking: a value object the rest of the node reads, so that no component has
 * to re-validate config. {@link #from} lists every problem at once, so an operator fixes a bad config in one go.
 */
public record NodeSettings(
    String name,
    String dataHost,
    int dataPort,
    long capacityBytes,
    long reserveBytes,
    int chunkBytes,
    boolean compression,
    int maxInflightPerConnection,
    int idleTimeoutSeconds,
    int maxConnections,
    long leaseMillis,
    String token,
    String adminToken,
    long drainTimeoutMillis,
    long handbackAckTimeoutMillis,
    Watermarks watermarks,
    PressureSettings pressure,
    ConnectionLimits connections,
    ClientLimits clients,
    long maxPages,
    DataTls tls) {

    /** The smallest reserve that still holds two full frames: one for a put, one for the progress traffic. */
    public static final long MIN_RESERVE_BYTES = 4L * (Frame.HEADER_BYTES + Frame.MAX_BODY_BYTES);
    private static final long FULL_FRAME_BYTES = Frame.HEADER_BYTES + Frame.MAX_BODY_BYTES;
    /** By default one connection may hold a quarter of the reserve in unread replies: four slow readers, not one. */
    private static final long RESERVE_SHARES_PER_CONNECTION = 4;

    /**
     * @param httpHost where the admin HTTP listens ({@code quarkus.http.host}): with no token the admin API may
     *                 listen on loopback only, as the data port may
     */
    public static NodeSettings from(NodeConfig config, String httpHost) {
        NodeConfig.Node node = config.node();
        List<String> problems = new ArrayList<>();
        long capacity = node.capacity().asLongValue();
        long reserve = node.reserve().asLongValue();
        long chunk = node.chunk().asLongValue();
        if (capacity < 0) {
            problems.add("pagepool.node.capacity must not be negative");
        }
        if (reserve < MIN_RESERVE_BYTES) {
            problems.add("pagepool.node.reserve must be at least " + MIN_RESERVE_BYTES + " bytes (four full frames), got " + reserve);
        }
        if (chunk < 1 << 20 || chunk > 1 << 30 || Long.bitCount(chunk) != 1) {
            problems.add("pagepool.node.chunk must be a power of two between 1m and 1g, got " + chunk);
        }
        if (node.dataPort() < 0 || node.dataPort() > 65535) {
            problems.add("pagepool.node.data-port must be 0..65535, got " + node.dataPort());
        }
        if (node.maxInflightPerConnection() < 1 || node.maxInflightPerConnection() > 4096) {
            problems.add("pagepool.node.max-inflight-per-connection must be 1..4096, got " + node.maxInflightPerConnection());
        }
        if (node.maxConnections() < 1) {
            problems.add("pagepool.node.max-connections must be at least 1");
        }
        long idle = node.idleTimeout().toSeconds();
        if (idle < 1 || idle > Integer.MAX_VALUE) {
            problems.add("pagepool.node.idle-timeout must be at least 1s");
        }
        long lease = node.lease().toMillis();
        if (lease < 1) {
            problems.add("pagepool.node.lease must be at least 1ms");
        }
        long drainTimeout = node.drainTimeout().toMillis();
        if (drainTimeout < 0) {
            problems.add("pagepool.node.drain-timeout must not be negative");
        }
        long ackTimeout = config.handback().ackTimeout().toMillis();
        if (ackTimeout < 1) {
            problems.add("pagepool.handback.ack-timeout must be at least 1ms");
        }
        NodeConfig.Watermark w = config.watermark();
        Watermarks watermarks = new Watermarks(w.high(), w.low(), w.min());
        problems.addAll(watermarks.problems());
        NodeConfig.Pressure p = config.pressure();
        PressureSettings pressure = new PressureSettings(p.enabled(), p.period().toMillis(), p.cgroupMaxFraction(),
            p.psiSomeAvg10(), p.minAvailable().asLongValue(), java.nio.file.Path.of(p.procRoot()),
            java.nio.file.Path.of(p.cgroupRoot()));
        problems.addAll(pressure.problems());
        String token = config.auth().token().orElse("").trim();
        if (token.getBytes(StandardCharsets.UTF_8).length > Frame.MAX_TOKEN_BYTES) {
            problems.add("pagepool.auth.token must be at most " + Frame.MAX_TOKEN_BYTES + " bytes");
        }
        if (token.isEmpty() && !isLoopback(node.dataHost())) {
            problems.add("pagepool.auth.token is empty but pagepool.node.data-host=" + node.dataHost()
                + " is not loopback: set a token, or bind the data port to 127.0.0.1");
        }
        String adminToken = config.admin().token().orElse("").trim();
        if (!adminToken.isEmpty() && adminToken.equals(token)) {
            problems.add("pagepool.admin.token equals pagepool.auth.token: every agent host holds the data token, so the"
                + " admin token must be another secret (openssl rand -base64 32)");
        }
        if (token.isEmpty() && adminToken.isEmpty() && !isLoopback(httpHost)) {
            problems.add("pagepool.auth.token is empty but quarkus.http.host=" + httpHost
                + " is not loopback: the admin API would be open to the network; set a token, or bind HTTP to 127.0.0.1");
        }
        long helloTimeout = node.helloTimeout().toMillis();
        if (helloTimeout < 1) {
            problems.add("pagepool.node.hello-timeout must be at least 1ms");
        }
        if (node.maxUnauthenticatedConnections() < 1) {
            problems.add("pagepool.node.max-unauthenticated-connections must be at least 1");
        }
        long perConnection = node.maxReservePerConnection().asLongValue();
        if (perConnection == 0) {
            perConnection = Math.max(FULL_FRAME_BYTES, reserve / RESERVE_SHARES_PER_CONNECTION);
        } else if (perConnection < FULL_FRAME_BYTES || perConnection > reserve / 2) {
            problems.add("pagepool.node.max-reserve-per-connection must be between one full frame (" + FULL_FRAME_BYTES
                + " bytes) and half the reserve (" + reserve / 2 + "), got " + perConnection);
        }
        if (node.maxPoolsPerClient() < 1) {
            problems.add("pagepool.node.max-pools-per-client must be at least 1");
        }
        if (node.maxPagesPerClient() < 0) {
            problems.add("pagepool.node.max-pages-per-client must not be negative (0: no limit)");
        }
        if (node.maxPages() < 0) {
            problems.add("pagepool.node.max-pages must not be negative (0: derived from the heap)");
        }
        DataTls tls = DataTls.from(config.tls().cert(), config.tls().key(), config.tls().clientCa(), problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("impossible configuration: " + String.join("; ", problems));
        }
        String name = node.name().filter(n -> !n.isBlank()).orElseGet(() -> hostName() + ":" + node.dataPort());
        return new NodeSettings(name, node.dataHost(), node.dataPort(), capacity, reserve, (int) chunk,
            node.compression(), node.maxInflightPerConnection(), (int) idle, node.maxConnections(), lease, token, adminToken,
            drainTimeout, ackTimeout, watermarks, pressure,
            new ConnectionLimits(helloTimeout, idle * 1000, node.maxUnauthenticatedConnections(),
                node.maxInflightPerConnection(), perConnection),
            new ClientLimits(node.maxPoolsPerClient(), node.maxPagesPerClient()), node.maxPages(), tls);
    }

    public boolean authRequired() {
        return !token.isEmpty();
    }

    public byte[] tokenBytes() {
        return token.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code pagepool.admin.token} is set. */
    public boolean adminTokenSet() {
        return !adminToken.isEmpty();
    }

    public byte[] adminTokenBytes() {
        return adminToken.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "donor";
        }
    }

    @Override
    public String toString() {
        return "NodeSettings[name=" + name + ", data=" + dataHost + ":" + dataPort + ", capacity=" + capacityBytes
            + ", reserve=" + reserveBytes + ", chunk=" + chunkBytes + ", compression=" + compression
            + ", auth=" + (authRequired() ? "token" : "off (loopback)") + ", admin=" + (adminTokenSet() ? "own token" : "none") + ", tls=" + (tls.enabled() ? "on" : "off")
            + ", " + connections + ", " + clients + ", maxPages=" + (maxPages == 0 ? "from heap" : maxPages) + ", " + watermarks + ", " + pressure
            + ", drainTimeout=" + drainTimeoutMillis + "ms]";
    }
}
