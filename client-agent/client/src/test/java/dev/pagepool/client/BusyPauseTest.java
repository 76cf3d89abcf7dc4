package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A BUSY pause on an event-loop connection holds no thread and goes on where the connection's frames are sent. */
class BusyPauseTest {
    @Test
    void aFrameAnsweredBusyGoesAgainFromAnEventLoopNotAThreadTheContractDoesNotList() throws Exception {
        try (FakeCluster cluster = new FakeCluster(1)) {
            ClientConfig config = cluster.config();
            DonorConnection conn = DonorConnection.open(cluster.guard.vertx(), cluster.fakes.get(0).address(), config,
                null, NanoClock.SYSTEM).get(10, TimeUnit.SECONDS);
            try {
                // Paused from an event loop, as a reply handler does: a pause that ends there cannot end before the
                // step after it is attached, which would then run on the thread attaching it.
                CompletableFuture<String> ended = new CompletableFuture<>();
                cluster.guard.vertx().runOnContext(v -> conn.after(1000)
                    .thenApply(w -> Thread.currentThread().getName())
                    .whenComplete((name, e) -> ended.complete(e == null ? name : "none, it failed: " + e)));
                String thread = ended.get(10, TimeUnit.SECONDS);
                assertTrue(thread.startsWith("vert.x-eventloop-thread"), "the pause ended on " + thread);
            } finally {
                conn.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
