package dev.pagepool.agent.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.EventLoopGuard;
import dev.pagepool.client.FakeDonor;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.protocol.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-backs reach the store whose pool they are of, however many stores share the client. */
class SwapStoreHandbackTest {
    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    @Test
    void aSecondStoreOnTheSameClientDoesNotTakeOverTheFirstStoresHandBacks() throws Exception {
        try (EventLoopGuard guard = new EventLoopGuard(); FakeDonor donor = new FakeDonor(guard.vertx(), "fake-0")) {
            guard.warmUp(donor.address());
            try (PagePoolClient client = PagePoolClient.connect(new ClientConfig(List.of(donor.address()), "", 5, 1, 64,
                    Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx())) {
                SwapStore first = SwapStore.open(client, 16L * BLOCK, dir.resolve("first.disk"), 1);
                SwapStore second = SwapStore.open(client, 16L * BLOCK, dir.resolve("second.disk"), 1);
                try {
                    byte[] page = new byte[BLOCK];
                    java.util.Arrays.fill(page, (byte) 7);
                    first.write(3, 1, page, 0).get(10, TimeUnit.SECONDS);
                    donor.send(donor.handbackFrame(first.pool().idOn(0), SwapStore.OBJECT, 3));
                    Await.until(() -> donor.handbackAnswers().size() == 1, "the client answered the hand-back");
                    assertEquals(List.of(Status.PAGE_OK), donor.handbackAnswers(), "the first store took its page");
                    assertEquals(1, first.counters().handedBack());
                    assertEquals(0, second.counters().handedBack());
                    assertThrows(IllegalStateException.class, () -> client.onHandback(first.pool(), (p, o, i, v, b) -> true),
                        "a second receiver for a pool is refused, not silently put in the first one's place");
                } finally {
                    first.close();
                    second.close();
                }
            }
            guard.assertNoEventLoopBlocked();
        }
    }
}
