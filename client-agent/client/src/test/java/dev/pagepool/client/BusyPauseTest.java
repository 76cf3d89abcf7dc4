package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A BUSY pause on an event-loop connection holds no thread and goes on where the connection's frames are sent. */
class BusyPauseTest {
    @Test
    void aFrameAnsweredBusyGoesAgainFromAnEventLoopNotAThreadTheContractDoesNotList() throws Exception {
        try (FakeCluster cluster = new FakeCluster(1)) {
            ClientConfig config = new ClientConfig(cluster.nodes(), "", 21, 1, 64, Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(20));
            DonorConnection conn = DonorConnection.open(cluster.guard.vertx(), cluster.fakes.get(0).address(), config,
                null, NanoClock.SYSTEM).get(10, TimeUnit.SECONDS);
            try {
                String thread = conn.after(1000).thenApply(v -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);
                assertTrue(thread.startsWith("vert.x-eventloop-thread"), "the pause ended on " + thread);
            } finally {
                conn.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
