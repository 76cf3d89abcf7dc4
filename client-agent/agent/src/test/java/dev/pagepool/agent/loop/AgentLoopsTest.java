package dev.pagepool.agent.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent's spinning loops on a real Vert.x: work handed to them runs, timers fire, and an idle loop sleeps. */
class AgentLoopsTest {
    private final Vertx vertx = AgentLoops.create(1, 200);

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private long loopThread() throws Exception {
        CompletableFuture<Long> id = new CompletableFuture<>();
        vertx.runOnContext(v -> id.complete(Thread.currentThread().getId()));
        return id.get(5, TimeUnit.SECONDS);
    }

    @Test
    void theLoopsAreEpollLoops() {
        assertTrue(vertx.isNativeTransportEnabled(), "the spin is a select strategy of Netty's epoll loops");
    }

    @Test
    void tasksHandedFromAnotherThreadWhileTheLoopSpinsAllRun() throws Exception {
        var context = vertx.getOrCreateContext();
        for (int i = 0; i < 2_000; i++) {
            CompletableFuture<Void> ran = new CompletableFuture<>();
            // Back to back: each lands while the loop spins after the one before, and is run by the spin.
            context.runOnContext(v -> ran.complete(null));
            ran.get(2, TimeUnit.SECONDS);
        }
    }

    @Test
    void aTimerFiresOnTime() throws Exception {
        CompletableFuture<Long> fired = new CompletableFuture<>();
        long start = System.nanoTime();
        vertx.setTimer(20, id -> fired.complete(System.nanoTime() - start));
        long millis = TimeUnit.NANOSECONDS.toMillis(fired.get(5, TimeUnit.SECONDS));
        assertTrue(millis >= 19 && millis < 1_000, "fired after " + millis + " ms");
    }

    @Test
    void anIdleLoopSleepsInsteadOfSpinning() throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long loop = loopThread();
        Thread.sleep(100);
        long cpuBefore = threads.getThreadCpuTime(loop);
        Thread.sleep(1_000);
        long cpuMillis = TimeUnit.NANOSECONDS.toMillis(threads.getThreadCpuTime(loop) - cpuBefore);
        assertTrue(cpuMillis < 100, "an idle loop used " + cpuMillis + " ms of CPU in 1 s");
    }

    @Test
    void everyThreadOfTheVertxRunsTheHookFirst() throws Exception {
        java.util.Set<String> hooked = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Vertx hooking = AgentLoops.create(1, 0, () -> hooked.add(Thread.currentThread().getName()));
        try {
            CompletableFuture<String> loop = new CompletableFuture<>();
            hooking.runOnContext(v -> loop.complete(Thread.currentThread().getName()));
            String worker = hooking.executeBlocking(() -> Thread.currentThread().getName())
                .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            // What the agent hangs on it (PR_SET_IO_FLUSHER) must hold on the threads that serve, whoever made them.
            assertTrue(hooked.contains(loop.get(5, TimeUnit.SECONDS)), "event loop " + loop.get() + " in " + hooked);
            assertTrue(hooked.contains(worker), "worker " + worker + " in " + hooked);
        } finally {
            hooking.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void noSpinIsVertxAsItComes() throws Exception {
        Vertx plain = AgentLoops.create(1, 0);
        try {
            CompletableFuture<Void> ran = new CompletableFuture<>();
            plain.runOnContext(v -> ran.complete(null));
            ran.get(5, TimeUnit.SECONDS);
            assertEquals(vertx.isNativeTransportEnabled(), plain.isNativeTransportEnabled());
        } finally {
            plain.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
