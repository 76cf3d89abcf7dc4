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

    private volatile boolean listening;
    private volatile int port = -1;
    private String deployment;
    private long leaseSweeper = -1;

    void start(@Observes StartupEvent event) throws Exception {
        RequestTimers timers = new RequestTimers(registry);
        NetServerOptions options = new NetServerOptions()
            .setHost(settings.dataHost())
            .setPort(settings.dataPort())
            .setTcpNoDelay(true)
            .setIdleTimeout(settings.idleTimeoutSeconds())
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setReceiveBufferSize(1 << 20)
            .setSendBufferSize(1 << 20);
        // One server instance per event loop, all on the same port: Vert.x spreads connections over them, and
        // each instance keeps its own processor and so its own scratch buffers.
        int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
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
        LOG.infof("pagepool donor %s serving pages on %s:%d with %d event loops (capacity %d bytes, reserve %d bytes, %s)",
            settings.name(), settings.dataHost(), port, instances, settings.capacityBytes(), reserve.totalBytes(),
            store.compressorName());
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

        DataVerticle(NetServerOptions options, RequestTimers timers) {
            this.options = options;
            this.timers = timers;
        }

        @Override
        public void start(Promise<Void> started) {
            RequestProcessor processor = new RequestProcessor(store, pools, reserve, counters, statsView, guard,
                settings.name());
            byte[] token = settings.tokenBytes();
            vertx.createNetServer(options).connectHandler(socket -> {
                if (counters.connectionsOpen.sum() >= settings.maxConnections()) {
                    LOG.warnf("refusing %s: %d connections already open", socket.remoteAddress(), settings.maxConnections());
                    socket.close();
                    return;
                }
                counters.connectionsOpened.increment();
                counters.connectionsOpen.increment();
                new DataConnection((NetSocketInternal) socket, processor, reserve, counters, timers, token, leases,
                    settings.maxInflightPerConnection(), handback).start();
            }).listen().onSuccess(server -> port = server.actualPort()).<Void>mapEmpty().onComplete(started);
        }
    }

    public boolean listening() {
        return listening;
    }

    /** The bound port: the configured one, or the one the OS chose when configured as 0. */
    public int port() {
        return port;
    }
}
