package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
                String thread = conn.after(1000).thenApply(v -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);
                assertTrue(thread.startsWith("vert.x-eventloop-thread"), "the pause ended on " + thread);
            } finally {
                conn.close();
            }
            cluster.guard.assertNoEventLoopBlocked();
        }
    }
}
