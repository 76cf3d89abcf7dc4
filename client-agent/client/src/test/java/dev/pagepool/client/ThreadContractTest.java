package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The client starts no thread that the threading contract of the package comment does not list. */
class ThreadContractTest {
    @Test
    void aClientRunByHandStartsNoThreadAndARunningOneOnlyItsControlThread() throws Exception {
        try (FakeCluster cluster = new FakeCluster(2)) {
            Set<Thread> before = Thread.getAllStackTraces().keySet();
            PagePoolClient byHand = PagePoolClient.connect(cluster.config(), cluster.guard.vertx(), new SteppedClock());
            use(byHand);
            byHand.conductor().doWork(0);
            assertEquals(List.of(), started(before), "a client whose conductor the caller runs starts no thread");
            byHand.close();

            PagePoolClient running = PagePoolClient.connect(cluster.config(), cluster.guard.vertx());
            use(running);
            assertEquals(List.of(ClientThreads.CONTROL), started(before), "one control thread, and nothing else");
            Thread control = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(ClientThreads.CONTROL)).findFirst().orElseThrow();
            running.close();
            control.join(5_000);
            assertFalse(control.isAlive(), "the control thread ends with its client");
            cluster.guard.assertNoEventLoopBlocked();
        }
    }

    private static void use(PagePoolClient client) {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
        assertEquals(PageStatus.OK, client.putBatch(pool, new long[] {0}, new int[] {0}, TestPage.of(0, 0, 1), 1)[0]);
        assertEquals(PageStatus.OK, client.getBatch(pool, new long[] {0}, new int[] {0}, 1, false, new byte[Frame.PAGE_BYTES])[0]);
        client.destroyPool(pool);
    }

    /**
     * Threads started since {@code before} that the contract does not account for as Vert.x's own: the event loops
     * (started as they are first used) and its internal workers.
     */
    private static List<String> started(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && t.isAlive())
            .map(Thread::getName)
            .filter(name -> !name.startsWith("vert.x-"))
            .sorted()
            .toList();
    }
}
