package dev.pagepool.node.net;

import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.metrics.NodeStatsView;
import dev.pagepool.node.metrics.RequestTimers;
import dev.pagepool.node.pool.ClientLeases;
import dev.pagepool.node.pool.LeaseExpiry;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.impl.NetSocketInternal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import dev.pagepool.protocol.HandshakeProof;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The donor's data port: a Vert.x TCP server speaking the pagepool protocol. Connections are spread over
 * Vert.x's event loops; each event loop has its own {@link RequestProcessor} (and so its own scratch buffers),
 * and requests are served on the loop that read them, with no hand-off to another thread.
 */
@ApplicationScoped
public class DataServer {
    private static final Logger LOG = Logger.getLogger(DataServer.class);
    private static final long LISTEN_TIMEOUT_SECONDS = 10;
    /** How often expired leases are looked for; a lease ends at most this late. */
    private static final long LEASE_SWEEP_MILLIS = 1000;
    /** How often each event loop checks its connections' hello and idle deadlines: their precision. */
    private static final long DEADLINE_SWEEP_MILLIS = 250;
    /** Below this a token is guessable offline from one handshake proof; the donor warns at start. */
    private static final int SHORT_TOKEN_BYTES = 16;

    @Inject
    Vertx vertx;
    @Inject
    NodeSettings settings;
    @Inject
    PageStore store;
    @Inject
    PoolRegistry pools;
    @Inject
    BufferReserve reserve;
    @Inject
    NodeCounters counters;
    @Inject
    MeterRegistry registry;
    @Inject
    ClientLeases leases;
    @Inject
    NodeStatsView statsView;
    @Inject
    WatermarkGuard guard;
    @Inject
    HandbackSender handback;

    private StrangerGate strangers;
    private volatile boolean listening;
    private volatile int port = -1;
    private String deployment;
    private long leaseSweeper = -1;

    void start(@Observes StartupEvent event) throws Exception {
        RequestTimers timers = new RequestTimers(registry);
        // No Vert.x idle timeout: it counts bytes, and a byte every few minutes would keep a connection forever.
        // DataConnection counts whole frames instead.
        NetServerOptions options = new NetServerOptions()
            .setHost(settings.dataHost())
            .setPort(settings.dataPort())
            .setTcpNoDelay(true)
            .setSendBufferSize(1 << 20);
        // No receive buffer size: Vert.x would read every chunk into a fixed buffer of that size, and at 1 MiB the
        // pooled allocator builds and frees a whole chunk per read. The kernel autotunes the window; Netty sizes reads.
        DataPortTls.configure(options, settings.tls(), vertx);
        // One server instance per event loop, all on the same port: Vert.x spreads connections over them, and
        // each instance keeps its own processor and so its own scratch buffers.
        int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
        strangers = new StrangerGate(settings.connections().maxUnauthenticated());
        deployment = vertx.deployVerticle(
                () -> new DataVerticle(options, timers),
                new DeploymentOptions().setInstances(instances))
            .toCompletionStage().toCompletableFuture().get(LISTEN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        LeaseExpiry expiry = new LeaseExpiry(pools, store, counters);
        leaseSweeper = vertx.setPeriodic(Math.max(100, Math.min(LEASE_SWEEP_MILLIS, settings.leaseMillis() / 2)),
            id -> vertx.executeBlocking(() -> {
                leases.sweep(System.currentTimeMillis(), expiry::expire);
                return null;
            }, false));
        listening = true;
        LOG.infof("pagepool donor %s serving pages on %s:%d%s with %d event loops on %s (capacity %d bytes, reserve %d bytes, %s)",
            settings.name(), settings.dataHost(), port, settings.tls().enabled() ? " over TLS" : "", instances,
            vertx.isNativeTransportEnabled() ? "epoll" : "NIO",
            settings.capacityBytes(), reserve.totalBytes(), store.compressorName());
        if (settings.authRequired() && settings.tokenBytes().length < SHORT_TOKEN_BYTES) {
            LOG.warnf("pagepool.auth.token is %d bytes: anyone who reaches the data port can test guesses of it offline "
                + "against a handshake proof; use at least %d random bytes", settings.tokenBytes().length, SHORT_TOKEN_BYTES);
        }
    }

    void stop(@Observes ShutdownEvent event) {
        listening = false;
        if (leaseSweeper >= 0) {
            vertx.cancelTimer(leaseSweeper);
        }
        if (deployment != null) {
            vertx.undeploy(deployment).toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).join();
        }
    }

    private final class DataVerticle extends AbstractVerticle {
        private final NetServerOptions options;
        private final RequestTimers timers;
        /** This event loop's connections, for the deadline sweep; touched on this loop only. */
        private final Set<DataConnection> connections = new HashSet<>();
        private long deadlineSweeper = -1;

        DataVerticle(NetServerOptions options, RequestTimers timers) {
            this.options = options;
            this.timers = timers;
        }

        @Override
        public void start(Promise<Void> started) {
            RequestProcessor processor = new RequestProcessor(store, pools, reserve, counters, statsView, guard,
                settings.name(), settings.clients());
            HandshakeProof proof = new HandshakeProof(settings.tokenBytes());
            deadlineSweeper = vertx.setPeriodic(DEADLINE_SWEEP_MILLIS, id -> {
                long now = System.nanoTime();
                // A copy: a connection closed by the check may leave the set while it is walked.
                for (DataConnection c : List.copyOf(connections)) {
                    c.checkDeadlines(now);
                }
            });
            vertx.createNetServer(options).connectHandler(socket -> {
                if (counters.connectionsOpen.sum() >= settings.maxConnections()) {
                    counters.connectionsRefused.increment();
                    LOG.debugf("refusing %s: %d connections already open", socket.remoteAddress(), settings.maxConnections());
                    socket.close();
                    return;
                }
                if (!strangers.tryEnter()) {
                    counters.connectionsRefused.increment();
                    LOG.debugf("refusing %s: %d connections already in the handshake", socket.remoteAddress(), strangers.max());
                    socket.close();
                    return;
                }
                counters.connectionsOpened.increment();
                counters.connectionsOpen.increment();
                DataConnection[] self = new DataConnection[1];
                self[0] = new DataConnection((NetSocketInternal) socket, processor, reserve, counters, timers,
                    new DonorHandshake(proof, settings.name()), leases, settings.connections(), handback, strangers,
                    () -> connections.remove(self[0]));
                connections.add(self[0]);
                self[0].start();
            }).listen().onSuccess(server -> port = server.actualPort()).<Void>mapEmpty().onComplete(started);
        }

        @Override
        public void stop() {
            if (deadlineSweeper >= 0) {
                vertx.cancelTimer(deadlineSweeper);
            }
        }
    }

    public boolean listening() {
        return listening;
    }

    /** The bound port: the configured one, or the one the OS chose when configured as 0. */
    public int port() {
        return port;
    }

    /** The id this process proves in every handshake; published with its endpoint so clients can match the two. */
    public static java.util.UUID donorId() {
        return DonorHandshake.DONOR_ID;
    }
}
