package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Single-page calls made on an event loop, as the NBD export makes them: every page of one tick of the loop leaves
 * in one frame per donor, sent from that loop, and each caller gets its own page's outcome.
 */
class RequestCoalescerTest {
    private static final int PAGES = 24;

    private EventLoopGuard guard;
    private FakeDonor fake;
    private PagePoolClient client;

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        fake = new FakeDonor(guard.vertx(), "fake-0");
        guard.warmUp(fake.address());
        client = PagePoolClient.connect(new ClientConfig(List.of(fake.address()), "", 12, 1, 64, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx(), new SteppedClock());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        fake.close();
        guard.close();
    }

    /** Runs {@code calls} in one task on an event loop and collects the futures they returned. */
    private List<CompletableFuture<PageStatus>> inOneTick(java.util.function.IntFunction<CompletableFuture<PageStatus>> call)
            throws Exception {
        CompletableFuture<List<CompletableFuture<PageStatus>>> made = new CompletableFuture<>();
        guard.vertx().getOrCreateContext().runOnContext(v -> {
            List<CompletableFuture<PageStatus>> futures = new ArrayList<>();
            for (int i = 0; i < PAGES; i++) {
                futures.add(call.apply(i));
            }
            made.complete(futures);
        });
        List<CompletableFuture<PageStatus>> futures = made.get(10, TimeUnit.SECONDS);
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(10, TimeUnit.SECONDS);
        return futures;
    }

    @Test
    void thePagesOfOneTickLeaveInOneFrameAndEachCallerGetsItsOwnPage() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int putsBefore = fake.requests(Opcode.PUT);
        for (CompletableFuture<PageStatus> f : inOneTick(i -> client.putAsync(pool, 7, i, TestPage.of(7, i, 1)))) {
            assertEquals(PageStatus.OK, f.join());
        }
        assertEquals(putsBefore + 1, fake.requests(Opcode.PUT), "one PUT frame for the " + PAGES + " pages of the tick");

        byte[][] read = new byte[PAGES][Frame.PAGE_BYTES];
        int getsBefore = fake.requests(Opcode.GET);
        for (CompletableFuture<PageStatus> f : inOneTick(i -> client.getAsync(pool, 7, i, false, read[i]))) {
            assertEquals(PageStatus.OK, f.join());
        }
        assertEquals(getsBefore + 1, fake.requests(Opcode.GET), "one GET frame for the " + PAGES + " pages of the tick");
        for (int i = 0; i < PAGES; i++) {
            assertArrayEquals(TestPage.of(7, i, 1), read[i], "page " + i + " went to its own caller's buffer");
        }
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aPageAloneInItsTickLeavesAtOnceInAFrameOfOne() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int putsBefore = fake.requests(Opcode.PUT);
        for (int i = 0; i < 3; i++) {
            int index = i;
            CompletableFuture<PageStatus> done = new CompletableFuture<>();
            guard.vertx().getOrCreateContext().runOnContext(v ->
                client.putAsync(pool, 8, index, TestPage.of(8, index, 1)).whenComplete((st, e) -> {
                    if (e != null) {
                        done.completeExceptionally(e);
                    } else {
                        done.complete(st);
                    }
                }));
            assertEquals(PageStatus.OK, done.get(10, TimeUnit.SECONDS));
            assertEquals(putsBefore + i + 1, fake.requests(Opcode.PUT), "one frame per tick");
        }
        guard.assertNoEventLoopBlocked();
    }

    /**
     * Application threads calling at once: each call is handed to the client's loop and joins its batch there,
     * with no thread of the coalescer's own in between, and every caller gets its own page back.
     */
    @Test
    void callsFromApplicationThreadsEachGetTheirOwnPage() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        int threads = 8;
        int perThread = 40;
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
            List<java.util.concurrent.Future<String>> outcomes = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long object = 100 + t;
                outcomes.add(callers.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    for (int i = 0; i < perThread; i++) {
                        PageStatus st = client.put(pool, object, i, TestPage.of(object, i, 1));
                        if (st != PageStatus.OK) {
                            return "put " + object + "/" + i + ": " + st;
                        }
                    }
                    byte[] read = new byte[Frame.PAGE_BYTES];
                    for (int i = 0; i < perThread; i++) {
                        PageStatus st = client.get(pool, object, i, false, read);
                        if (st != PageStatus.OK || !java.util.Arrays.equals(TestPage.of(object, i, 1), read)) {
                            return "get " + object + "/" + i + ": " + st + " or other bytes";
                        }
                    }
                    return "ok";
                }));
            }
            for (java.util.concurrent.Future<String> f : outcomes) {
                assertEquals("ok", f.get(30, TimeUnit.SECONDS));
            }
        } finally {
            callers.shutdownNow();
        }
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("pagepool-coalescer")),
            "no thread stands between a caller and the loop that sends its page");
        guard.assertNoEventLoopBlocked();
    }
}
