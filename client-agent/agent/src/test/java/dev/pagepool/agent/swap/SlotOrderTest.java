package dev.pagepool.agent.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two requests that share slots, entered at once from two event loops (NBD with {@code --event-loops} above 1):
 * whatever the interleaving, one of them goes first and the other follows it, never both waiting on each other.
 */
class SlotOrderTest {
    private static final long FIRST_SLOT = 10;
    private static final int SLOTS = 2;

    /**
     * Registers slots in the map as SlotOrder does, and lets the test stop the first request between its first and
     * its second slot: the interleaving in which the second request registers all its slots in that gap.
     */
    private static final class SteppedSlots extends ConcurrentHashMap<Long, CompletableFuture<Void>> {
        final CountDownLatch firstSlotOfA = new CountDownLatch(1);
        /** Opens once B has registered all its slots. */
        final CountDownLatch slotsOfB = new CountDownLatch(1);
        volatile Thread a;
        volatile Thread b;
        volatile boolean bEntering;
        volatile boolean bReturned;

        @Override
        public CompletableFuture<Void> put(Long slot, CompletableFuture<Void> operation) {
            Thread self = Thread.currentThread();
            if (self == a && slot == FIRST_SLOT + SLOTS - 1) {
                awaitBRegisteredOrHeldBack();
            }
            CompletableFuture<Void> previous = super.put(slot, operation);
            if (self == a && slot == FIRST_SLOT) {
                firstSlotOfA.countDown();
            } else if (self == b && slot == FIRST_SLOT + SLOTS - 1) {
                slotsOfB.countDown();
            }
            return previous;
        }

        /**
         * A goes on once B has taken every slot, the first after A (the overlapping order), or once B is held back from
         * registering at all while A is half-way, waiting or queued (registration that is atomic per request).
         */
        private void awaitBRegisteredOrHeldBack() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (slotsOfB.getCount() > 0) {
                Thread.State state = b == null ? Thread.State.NEW : b.getState();
                if (bEntering && (bReturned || state == Thread.State.BLOCKED || state == Thread.State.WAITING)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("B neither registered nor waited to register");
                }
                Thread.onSpinWait();
            }
        }
    }

    @Test
    @Timeout(30)
    void overlappingRequestsEnteredHalfWayThroughEachOtherRunOneAfterTheOther() throws Exception {
        SteppedSlots map = new SteppedSlots();
        SlotOrder order = new SlotOrder(map);
        CompletableFuture<Void> doneA = new CompletableFuture<>();
        CompletableFuture<Void> doneB = new CompletableFuture<>();
        CompletableFuture<CompletableFuture<Void>> beforeA = new CompletableFuture<>();
        CompletableFuture<CompletableFuture<Void>> beforeB = new CompletableFuture<>();
        Thread a = new Thread(() -> beforeA.complete(order.enter(FIRST_SLOT, SLOTS, doneA)), "loop-a");
        Thread b = new Thread(() -> {
            try {
                map.firstSlotOfA.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            map.bEntering = true;
            beforeB.complete(order.enter(FIRST_SLOT, SLOTS, doneB));
            map.bReturned = true;
        }, "loop-b");
        map.a = a;
        map.b = b;
        a.start();
        b.start();
        // Each request runs once what it waits for is done, and is done at once.
        beforeA.get(10, TimeUnit.SECONDS).thenRun(() -> doneA.complete(null));
        beforeB.get(10, TimeUnit.SECONDS).thenRun(() -> doneB.complete(null));
        try {
            CompletableFuture.allOf(doneA, doneB).get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the two requests wait on each other: A done " + doneA.isDone() + ", B done "
                + doneB.isDone(), e);
        }
        a.join();
        b.join();
        Await.until(() -> order.busySlots() == 0, "both requests leave their slots");
    }

    @Test
    void aRequestWaitsForEveryEarlierRequestOnItsSlotsAndNothingElse() {
        SlotOrder order = new SlotOrder();
        CompletableFuture<Void> first = new CompletableFuture<>();
        CompletableFuture<Void> other = new CompletableFuture<>();
        CompletableFuture<Void> second = new CompletableFuture<>();
        assertTrue(order.enter(0, 4, first).isDone(), "nothing before the first request");
        assertTrue(order.enter(8, 2, other).isDone(), "disjoint slots wait for nothing");
        CompletableFuture<Void> before = order.enter(3, 2, second);
        assertTrue(!before.isDone(), "slot 3 is the first request's");
        other.complete(null);
        assertTrue(!before.isDone());
        first.complete(null);
        assertTrue(before.isDone(), "the first request is done");
        second.complete(null);
        assertEquals(0, order.busySlots());
    }
}
