package dev.pagepool.agent.http;

import dev.pagepool.agent.host.HostProtection;
import dev.pagepool.client.PagePoolClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The agent's probes, as the donor's SmallRye ones read: {@code live} says the process answers (the HTTP server's
 * event loop runs it, and the export is being served); {@code ready} says a page written now has somewhere to go:
 * at least one donor reachable, and the disk file writable for what the cluster rejects or hands back. A host
 * should not start swapping on an export that is not ready.
 */
public final class AgentHealth {
    /** Longer than the client's request timeout (2 s), so that one frozen donor does not fail the probe alone. */
    private static final long DONORS_TIMEOUT_MILLIS = 5000;

    private final HealthChecks live;
    private final HealthChecks ready;

    public AgentHealth(Vertx vertx, PagePoolClient client, Path diskFile, int copies) {
        this.live = HealthChecks.create(vertx).register("nbd-export", promise -> promise.complete(Status.OK()));
        this.ready = HealthChecks.create(vertx)
            // Pings until one donor answers: the client learns that a donor is gone only when a request to it fails
            // (or the cluster says so), and an idle agent makes none. A ping that cannot reconnect takes the donor out
            // of service, as the next swap-out would have. On a worker: a frozen donor answers nothing for seconds.
            .register("donors", DONORS_TIMEOUT_MILLIS, promise -> vertx.executeBlocking(() -> answering(client), false)
                .onComplete(answered -> {
                    JsonObject data = new JsonObject().put("up", client.upCount()).put("known", client.knownDonors());
                    if (answered.succeeded() && answered.result() != null) {
                        promise.complete(Status.OK(data.put("answered", answered.result())));
                    } else {
                        promise.complete(Status.KO(data.put("reason", "no donor is reachable")));
                    }
                }))
            // Fewer copies than the target is not a reason to stop swapping (every page still has one), but an
            // operator must see it: UP, with the state DEGRADED until the re-replicator has caught up.
            .register("copies", promise -> {
                int shortfall = client.underReplicatedExtents();
                JsonObject data = new JsonObject().put("target", copies).put("donors_up", client.upCount())
                    .put("under_replicated_extents", shortfall)
                    .put("state", shortfall > 0 || client.upCount() < copies ? "DEGRADED" : "OK");
                promise.complete(Status.OK(data));
            })
            // A stat of the file; a stuck disk must not hold up the event loop, hence a worker.
            .register("disk-file", promise -> vertx.<Boolean>executeBlocking(() -> Files.isWritable(diskFile), false)
                .onComplete(writable -> {
                    JsonObject data = new JsonObject().put("path", diskFile.toString());
                    promise.complete(writable.succeeded() && writable.result() ? Status.OK(data)
                        : Status.KO(data.put("reason", "the disk file is not writable")));
                }));
    }

    /**
     * The {@code host-protection} check: always UP, with what holds in its data. An agent that is not locked still
     * serves, only less safely, and an operator who wants it locked says so with --require-locked (the agent then
     * does not start without it); a readiness that went DOWN for want of root would only keep swap off.
     */
    public AgentHealth hostProtection(HostProtection protection) {
        ready.register("host-protection", promise -> promise.complete(Status.OK(protection.toJson())));
        return this;
    }

    /** The name of the first donor in service that answers a ping, or null when none does. */
    private static String answering(PagePoolClient client) {
        for (int d = 0; d < client.donorIndexLimit(); d++) {
            if (!client.donorUp(d)) {
                continue;
            }
            try {
                client.ping(d);
                return client.donorName(d);
            } catch (RuntimeException notNow) {
                // out of service, closed or silent: try the next one
            }
        }
        return null;
    }

    HealthChecks live() {
        return live;
    }

    HealthChecks ready() {
        return ready;
    }
}
