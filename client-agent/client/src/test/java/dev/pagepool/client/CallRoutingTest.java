package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which connection carries a frame is chosen by the call, not by the thread it runs on: two clients in one JVM
 * never see each other's routing, and a synchronous call refuses to wait on an event loop.
 */
class CallRoutingTest {
    private FakeCluster cluster;
    private final List<PagePoolClient> clients = new ArrayList<>();
    /** The application thread: lanes are a thread's own, so every call of a test is made on this one. */
    private final ExecutorService caller = Executors.newSingleThreadExecutor();

    @BeforeEach
    void start() throws Exception {
        cluster = new FakeCluster(2);
    }

    @AfterEach
    void stop() throws Exception {
        caller.shutdownNow();
        for (PagePoolClient client : clients) {
            client.close();
        }
        cluster.close();
    }

    private PagePoolClient connect() {
        PagePoolClient client = cluster.connect();
        clients.add(client);
        return client;
    }

    private <T> T onCaller(Supplier<T> call) throws Exception {
        return CompletableFuture.supplyAsync(call, caller).get(10, TimeUnit.SECONDS);
    }

    @Test
    void anotherClientsCallMadeDuringALaneCallNeitherUsesNorOpensThatCallersLanes() throws Exception {
        PagePoolClient first = connect();
        PagePoolClient second = connect();
        PoolRef own = first.newPool(PoolSpec.privatePool(true), 1);
        byte[] read = new byte[Frame.PAGE_BYTES];
        // The caller thread gets a lane of the first client to the one donor its page is on, and to no other.
        for (int i = 0; i < 3; i++) {
            assertEquals(PageStatus.OK, onCaller(() -> first.put(own, 1, 0, TestPage.of(1, 0, 1))));
            assertEquals(PageStatus.OK, onCaller(() -> first.get(own, 1, 0, false, read)));
        }
        int holder = cluster.fakeOf(first, 0).holds(own.idOn(0), 1, 0) ? 0 : 1;
        FakeDonor other = cluster.fakeOf(first, 1 - holder);
        assertEquals(0, other.callsOnlyRequests(Opcode.HELLO), "no lane to the donor without the page yet");

        // While a call of the first client runs on the caller's lanes, a put of the second client, on both donors.
        PoolRef theirs = second.newPool(PoolSpec.privatePool(true), 2);
        PageStatus[] put = onCaller(() -> first.lanesForTest().run(first.donorsForTest(),
            wires -> second.putBatchAsync(theirs, new long[] {9}, new int[] {0}, TestPage.of(9, 0, 1), 1)).join());
        assertEquals(PageStatus.OK, put[0]);
        assertEquals(0, other.callsOnlyRequests(Opcode.PUT), "the second client's put went on its own connections");

        // The first client's next call opens no lane for the donor only the second client needed.
        assertEquals(PageStatus.OK, onCaller(() -> first.get(own, 1, 0, false, read)));
        assertEquals(0, other.callsOnlyRequests(Opcode.HELLO),
            "the second client's call made the first open a lane it never needed");
        cluster.guard.assertNoEventLoopBlocked();
    }

    @Test
    void aSynchronousCallOnAnEventLoopFailsAtOnceNamingTheContract() throws Exception {
        PagePoolClient client = connect();
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        cluster.guard.vertx().runOnContext(v -> {
            try {
                client.putBatch(pool, new long[] {1}, new int[] {0}, TestPage.of(1, 0, 1), 1);
                thrown.complete(null);
            } catch (RuntimeException e) {
                thrown.complete(e);
            }
        });
        Throwable e = thrown.get(10, TimeUnit.SECONDS);
        assertInstanceOf(IllegalStateException.class, e, "a wait on an event loop is refused, not taken");
        assertTrue(e.getMessage().contains("event loop") && e.getMessage().contains("threading contract"),
            "the message names the rule broken: " + e.getMessage());
        cluster.guard.assertNoEventLoopBlocked();
    }
}
