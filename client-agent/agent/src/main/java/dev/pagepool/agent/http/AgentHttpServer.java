package dev.pagepool.agent.http;

import dev.pagepool.agent.metrics.AgentMetrics;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.healthchecks.HealthCheckHandler;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;

/**
 * The agent's own HTTP port ({@code --http}, loopback by default): {@code /q/health/live}, {@code /q/health/ready}
 * and {@code /q/metrics}, the paths the donor serves, so one probe and one scrape configuration fit both.
 */
public final class AgentHttpServer implements AutoCloseable {
    private static final long BIND_TIMEOUT_SECONDS = 30;

    private final Vertx vertx;
    private final String host;
    private final int requestedPort;
    private final Router router;
    private HttpServer server;

    public AgentHttpServer(Vertx vertx, String host, int port, AgentHealth health, AgentMetrics metrics) {
        this.vertx = vertx;
        this.host = host;
        this.requestedPort = port;
        this.router = Router.router(vertx);
        router.get("/q/health/live").handler(HealthCheckHandler.createWithHealthChecks(health.live()));
        router.get("/q/health/ready").handler(HealthCheckHandler.createWithHealthChecks(health.ready()));
        router.get("/q/health").handler(HealthCheckHandler.createWithHealthChecks(health.ready()));
        // The scrape walks the slot map: on a worker, never on the event loop the export shares.
        router.get("/q/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape, false).onComplete(text -> {
            if (text.failed()) {
                ctx.fail(text.cause());
                return;
            }
            ctx.response().putHeader("Content-Type", TextFormat.CONTENT_TYPE_004).end(text.result());
        }));
    }

    /** Binds and returns the port listened on (the one chosen by the system if 0 was asked). Blocks until bound. */
    public int start() {
        try {
            server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(requestedPort))
                .requestHandler(router)
                .listen()
                .toCompletionStage().toCompletableFuture().get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen for HTTP on " + host + ":" + requestedPort + ": " + e, e);
        }
        return server.actualPort();
    }

    @Override
    public void close() {
        HttpServer s = server;
        server = null;
        if (s != null) {
            try {
                s.close().toCompletionStage().toCompletableFuture().get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                // stopping anyway
            }
        }
    }
}
