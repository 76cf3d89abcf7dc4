package dev.pagepool.node.cluster;

import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.DonorEndpoint;
import dev.pagepool.discovery.DonorMember;
import dev.pagepool.node.config.NodeConfig;
import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.net.DataServer;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.http.HttpServerStart;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * The donor's membership of the pagepool cluster: once the data port listens, joins the Hazelcast cluster with
 * the data endpoint as member attributes and publishes the store's load every second; leaves on shutdown (or
 * earlier, when a drain calls {@link #leave()}).
 *
 * <p>Joining runs on a thread of its own, so that health and admin answer meanwhile (readiness stays DOWN until
 * joined, see {@link ClusterReadiness}); a join that fails (DNS not ready yet, port taken) is retried every
 * {@value #RETRY_MILLIS} ms. With {@code pagepool.cluster.enabled=false} the donor runs alone.
 */
@ApplicationScoped
public class ClusterMembership {
    /** The states readiness reports. */
    public enum State { DISABLED, WAITING_FOR_DATA_PORT, JOINING, JOINED, LEFT, FAILED }

    static final long RETRY_MILLIS = 5_000;
    private static final Logger LOG = Logger.getLogger(ClusterMembership.class);
    private static final long DATA_PORT_WAIT_MILLIS = 30_000;
    private static final long HTTP_PORT_WAIT_MILLIS = 5_000;

    @Inject
    NodeConfig config;
    @Inject
    NodeSettings settings;
    @Inject
    DataServer dataServer;
    @Inject
    DonorLoadSampler load;

    private volatile State state = State.WAITING_FOR_DATA_PORT;
    private volatile String lastError = "";
    private volatile DonorMember member;
    private volatile int httpPort = -1;
    private volatile boolean stopping;
    private Thread joiner;

    /** After the data server (default priority) has bound its port. */
    void start(@Observes @Priority(Interceptor.Priority.APPLICATION + 1000) StartupEvent event) {
        if (!config.cluster().enabled()) {
            state = State.DISABLED;
            LOG.info("cluster membership disabled (pagepool.cluster.enabled=false): running as a lone donor");
            return;
        }
        ClusterSettings cluster = ClusterSettingsMapper.from(config.cluster());
        joiner = new Thread(() -> joinLoop(cluster), "pagepool-cluster-join");
        joiner.setDaemon(true);
        joiner.start();
    }

    /** The port the HTTP server really bound (the configured one may be 0, a random port). */
    void httpStarted(@ObservesAsync HttpServerStart event) {
        int port = event.options().getPort();
        LOG.debugf("http server started on port %d", port);
        if (port > 0) {
            httpPort = port;
        }
    }

    /** Before the data server stops: clients stop placing pages here first. */
    void stop(@Observes @Priority(Interceptor.Priority.APPLICATION) ShutdownEvent event) {
        leave();
    }

    /** Leaves the cluster gracefully (idempotent); the donor is then no longer a placement target. */
    public synchronized void leave() {
        stopping = true;
        if (joiner != null) {
            joiner.interrupt();
        }
        DonorMember current = member;
        member = null;
        if (current != null) {
            LOG.infof("leaving cluster as %s", current.uuid());
            current.close();
        }
        if (state != State.DISABLED) {
            state = State.LEFT;
        }
    }

    private void joinLoop(ClusterSettings cluster) {
        try {
            awaitPorts();
            while (!stopping) {
                moveTo(State.JOINING, "");
                try {
                    DonorMember joined = DonorMember.start(cluster, endpoint(), load);
                    synchronized (this) {
                        if (stopping) {
                            joined.close();
                            return;
                        }
                        member = joined;
                        state = State.JOINED;
                        lastError = "";
                    }
                    LOG.infof("donor %s joined cluster '%s' at %s as %s (%d members, failure timeout %ds)",
                        settings.name(), cluster.clusterName(), joined.address(), joined.uuid(), joined.clusterSize(),
                        cluster.failureTimeout().toSeconds());
                    return;
                } catch (RuntimeException e) {
                    if (!moveTo(State.FAILED, String.valueOf(e.getMessage()))) {
                        return;
                    }
                    LOG.errorf(e, "cannot join cluster '%s'; retrying in %d ms", cluster.clusterName(), RETRY_MILLIS);
                    Thread.sleep(RETRY_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for the data port (required) and for the HTTP port to be known (else the configured one is used). */
    private void awaitPorts() throws InterruptedException {
        long start = System.currentTimeMillis();
        while (!stopping) {
            long waited = System.currentTimeMillis() - start;
            if (dataServer.listening() && (httpPort() > 0 || waited > HTTP_PORT_WAIT_MILLIS)) {
                return;
            }
            if (waited > DATA_PORT_WAIT_MILLIS) {
                String error = "data port not listening after " + DATA_PORT_WAIT_MILLIS + " ms";
                moveTo(State.FAILED, error);
                LOG.error(error + ": not joining the cluster");
                throw new InterruptedException(error);
            }
            Thread.sleep(50);
        }
    }

    /** Records a state of the join unless the donor is already leaving; false when it is. */
    private synchronized boolean moveTo(State next, String error) {
        if (stopping) {
            return false;
        }
        state = next;
        lastError = error;
        return true;
    }

    private DonorEndpoint endpoint() {
        return new DonorEndpoint(settings.name(), settings.dataHost(), dataServer.port(), httpPort(), DataServer.donorId());
    }

    /** The bound HTTP port: from the start event, else from config (Quarkus updates it once a random port is bound). */
    private int httpPort() {
        if (httpPort > 0) {
            return httpPort;
        }
        String key = LaunchMode.current() == LaunchMode.TEST ? "quarkus.http.test-port" : "quarkus.http.port";
        return ConfigProvider.getConfig().getOptionalValue(key, Integer.class).orElse(8080);
    }

    public State state() {
        return state;
    }

    public String lastError() {
        return lastError;
    }

    /** The running member, while joined. */
    public Optional<DonorMember> member() {
        DonorMember current = member;
        return current != null && current.running() ? Optional.of(current) : Optional.empty();
    }
}
