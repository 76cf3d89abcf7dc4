package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The observer the agent's metrics hang on: told of every executed request once, with its command, length, a
 * latency, the error sent and the device's failure; requests refused before execution never reach it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdRequestObserverTest {
    private record Seen(int command, long bytes, long nanos, int error, Throwable failure) {
    }

    private static Vertx vertx;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void everyExecutedRequestIsObservedOnceWithItsOutcome() throws Exception {
        ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
        MemoryBlockDevice device = new MemoryBlockDevice(64);
        NbdServer server = new NbdServer(vertx, device, "pagepool", "127.0.0.1", 0, NbdServer.DEFAULT_RESERVE_BYTES)
            .observe((command, bytes, nanos, error, failure) -> seen.add(new Seen(command, bytes, nanos, error, failure)));
        server.start();
        try (RawNbdClient c = new RawNbdClient(server.port()).greet().go()) {
            c.write(0, new byte[8192]);
            c.read(4096, 4096);
            c.request(0, Nbd.NBD_CMD_FLUSH, 3, 0, 0, null);
            assertEquals(0, c.reply().error());
            c.request(0, Nbd.NBD_CMD_TRIM, 4, 0, 4096, null);
            assertEquals(0, c.reply().error());
            c.request(0, Nbd.NBD_CMD_WRITE_ZEROES, 5, 8192, 4096, null);
            assertEquals(0, c.reply().error());
            c.request(0, Nbd.NBD_CMD_READ, 6, 64L * 4096, 4096, null); // past the end: refused, not executed
            assertEquals(Nbd.NBD_EINVAL, c.reply().error());
            device.failBlocks(b -> b == 2, false);
            c.request(0, Nbd.NBD_CMD_READ, 7, 2 * 4096, 4096, null);
            assertEquals(Nbd.NBD_EIO, c.reply().error());
        } finally {
            server.close();
            device.close();
        }
        List<Seen> all = awaitCount(seen, 6);
        int[] commands = all.stream().mapToInt(Seen::command).toArray();
        assertEquals(List.of(NbdRequestObserver.WRITE, NbdRequestObserver.READ, NbdRequestObserver.FLUSH,
            NbdRequestObserver.TRIM, NbdRequestObserver.WRITE_ZEROES, NbdRequestObserver.READ),
            Arrays.stream(commands).boxed().toList());
        assertEquals(8192, all.get(0).bytes());
        assertEquals(4096, all.get(1).bytes());
        for (Seen s : all.subList(0, 5)) {
            assertEquals(0, s.error());
            assertNull(s.failure());
            assertTrue(s.nanos() > 0, "a latency is measured");
        }
        Seen failed = all.get(5);
        assertEquals(NbdRequestObserver.EIO, failed.error());
        Throwable cause = failed.failure();
        while (cause.getCause() != null && !(cause instanceof IllegalStateException)) {
            cause = cause.getCause();
        }
        assertSame(IllegalStateException.class, cause.getClass(), "the device's own failure is passed on");
    }

    private static List<Seen> awaitCount(ConcurrentLinkedQueue<Seen> seen, int n) throws InterruptedException {
        // The observer runs right after the reply is queued, on the event loop; the client may read it first.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (seen.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(50); // and no more than n
        List<Seen> all = new ArrayList<>(seen);
        assertEquals(n, all.size(), "observed: " + all);
        return all;
    }
}
