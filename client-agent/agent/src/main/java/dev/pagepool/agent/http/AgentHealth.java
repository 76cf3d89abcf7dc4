package dev.pagepool.agent.http;

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
    private final HealthChecks live;
    private final HealthChecks ready;

    public AgentHealth(Vertx vertx, PagePoolClient client, Path diskFile) {
        this.live = HealthChecks.create(vertx).register("nbd-export", promise -> promise.complete(Status.OK()));
        this.ready = HealthChecks.create(vertx)
            .register("donors", promise -> {
                int up = client.upCount();
                JsonObject data = new JsonObject().put("up", up).put("known", client.donorCount());
                promise.complete(up > 0 ? Status.OK(data) : Status.KO(data.put("reason", "no donor is reachable")));
            })
            // A stat of the file; a stuck disk must not hold up the event loop, hence a worker.
            .register("disk-file", promise -> vertx.<Boolean>executeBlocking(() -> Files.isWritable(diskFile), false)
                .onComplete(writable -> {
                    JsonObject data = new JsonObject().put("path", diskFile.toString());
                    promise.complete(writable.succeeded() && writable.result() ? Status.OK(data)
                        : Status.KO(data.put("reason", "the disk file is not writable")));
                }));
    }

    HealthChecks live() {
        return live;
    }

    HealthChecks ready() {
        return ready;
    }
}
