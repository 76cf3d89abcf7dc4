package dev.pagepool.agent.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.SelectStrategy;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The spin's rules, with scripted polls and a clock the test steps. */
class BoundedSpinTest {
    private static final long SPIN = 50_000;

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger polls = new AtomicInteger();
    private final AtomicInteger tasks = new AtomicInteger();

    /** Each poll answers the next scripted count (0 once the script runs out) and takes {@code step} nanoseconds. */
    private io.netty.util.IntSupplier polling(long step, Integer... ready) {
        Deque<Integer> script = new ArrayDeque<>(List.of(ready));
        return () -> {
            polls.incrementAndGet();
            now.addAndGet(step);
            return script.isEmpty() ? 0 : script.poll();
        };
    }

    private BoundedSpin spin() {
        return new BoundedSpin(SPIN, now::get, tasks::get);
    }

    @Test
    void aSocketReadyWithinTheSpinIsServedWithoutSleeping() throws Exception {
        assertEquals(3, spin().calculateStrategy(polling(1_000, 0, 0, 3), false));
        assertEquals(3, polls.get());
    }

    @Test
    void nothingReadyForTheWholeSpinSleeps() throws Exception {
        assertEquals(SelectStrategy.SELECT, spin().calculateStrategy(polling(10_000), false));
        assertEquals(5, polls.get(), "polls for 50 us at 10 us a poll, then sleeps");
    }

    @Test
    void aTaskHandedToTheLoopDuringTheSpinEndsIt() throws Exception {
        io.netty.util.IntSupplier poll = polling(1_000);
        io.netty.util.IntSupplier taskOnThirdPoll = () -> {
            int ready = poll.get();
            if (polls.get() == 3) {
                tasks.set(1);
            }
            return ready;
        };
        assertEquals(0, spin().calculateStrategy(taskOnThirdPoll, false), "0: no I/O, run the tasks");
        assertEquals(3, polls.get());
    }

    @Test
    void queuedTasksAreNeverSpunOver() throws Exception {
        long before = now.get();
        assertEquals(2, spin().calculateStrategy(polling(1_000, 2), true));
        assertEquals(0, spin().calculateStrategy(polling(1_000), true));
        assertEquals(2, polls.get(), "one non-blocking poll each, as the loop does without a spin");
        assertTrue(now.get() - before < SPIN);
    }
}
