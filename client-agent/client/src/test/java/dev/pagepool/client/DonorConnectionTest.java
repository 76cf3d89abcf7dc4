package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The connection's window, backlog and deadlines, scripted against a fake donor on a real socket. */
class DonorConnectionTest {
    private static final int WINDOW = 2;

    private EventLoopGuard guard;
    private FakeDonor donor;
    private final SteppedClock clock = new SteppedClock();

    @BeforeEach
    void start() throws Exception {
        guard = new EventLoopGuard();
        donor = new FakeDonor(guard.vertx(), "fake");
        guard.warmUp(donor.address());
    }

    @AfterEach
    void stop() throws Exception {
        donor.close();
        guard.close();
    }

    private ClientConfig config() {
        return new ClientConfig(List.of(donor.address()), "", 7, 1, WINDOW, Duration.ofSeconds(2), Duration.ofSeconds(2),
            Duration.ofSeconds(20));
    }

    /** Opens the connection from {@code context}, so its replies are read on that context's event loop. */
    private DonorConnection openOn(Context context) throws Exception {
        CompletableFuture<DonorConnection> opened = new CompletableFuture<>();
        context.runOnContext(v -> DonorConnection.open(guard.vertx(), donor.address(), config(), null, clock,
                new BusyPauses(clock, () -> { }))
            .whenComplete((c, e) -> {
                if (e != null) {
                    opened.completeExceptionally(e);
                } else {
                    opened.complete(c);
                }
            }));
        return opened.get(10, TimeUnit.SECONDS);
    }

    private static CompletableFuture<DonorReply> ping(DonorConnection conn) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + 8);
        FrameWriter.ping(frame, id, id);
        return conn.send(id, frame);
    }

    @Test
    void aFullWindowOnTheEventLoopThatReadsTheRepliesNeitherBlocksNorStopsReplies() throws Exception {
        Context loop = guard.vertx().getOrCreateContext();
        DonorConnection conn = openOn(loop);
        donor.script((h, b) -> h.opcode() == Opcode.PING ? FakeDonor.Action.HOLD : FakeDonor.Action.SERVE);
        int requests = WINDOW * 4;
        List<CompletableFuture<DonorReply>> replies = new ArrayList<>();
        CompletableFuture<Long> sentIn = new CompletableFuture<>();
        loop.runOnContext(v -> {
            long t0 = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                replies.add(ping(conn));
            }
            sentIn.complete(System.nanoTime() - t0);
        });
        assertTrue(sentIn.get(10, TimeUnit.SECONDS) < TimeUnit.MILLISECONDS.toNanos(EventLoopGuard.MAX_EVENT_LOOP_MILLIS),
            "sending past the window returns at once");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!replies.stream().allMatch(CompletableFuture::isDone) && System.nanoTime() < deadline) {
            assertTrue(donor.heldCount() <= WINDOW, "never more than the window on the wire");
            donor.releaseHeld();
            Thread.sleep(5);
        }
        for (CompletableFuture<DonorReply> reply : replies) {
            reply.get(1, TimeUnit.SECONDS).body().release();
        }
        assertEquals(requests, donor.requests(Opcode.PING), "every request went out as the window freed");
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void aBacklogBeyondItsBoundFailsAtOnceWithBusy() throws Exception {
        DonorConnection conn = openOn(guard.vertx().getOrCreateContext());
        donor.script((h, b) -> FakeDonor.Action.HOLD);
        List<CompletableFuture<DonorReply>> replies = new ArrayList<>();
        int accepted = WINDOW + DonorConnection.BACKLOG_PER_WINDOW * WINDOW;
        for (int i = 0; i < accepted + 1; i++) {
            replies.add(ping(conn));
        }
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
            () -> replies.get(accepted).get(1, TimeUnit.SECONDS));
        assertInstanceOf(BusyException.class, refused.getCause());
        assertEquals(accepted, conn.outstanding());
        donor.script((h, b) -> FakeDonor.Action.SERVE);
        donor.releaseHeld();
        for (int i = 0; i < accepted; i++) {
            replies.get(i).get(10, TimeUnit.SECONDS).body().release();
        }
        guard.assertNoEventLoopBlocked();
    }

    @Test
    void requestsOnTheWireAndInTheBacklogFailAtTheirDeadlineOnTheInjectedClock() throws Exception {
        DonorConnection conn = openOn(guard.vertx().getOrCreateContext());
        donor.script((h, b) -> FakeDonor.Action.HOLD);
        List<CompletableFuture<DonorReply>> replies = new ArrayList<>();
        for (int i = 0; i < WINDOW + 1; i++) {
            replies.add(ping(conn));
        }
        Thread.sleep(200);
        assertTrue(replies.stream().noneMatch(CompletableFuture::isDone), "no deadline passed on the test's clock");
        clock.advance(Duration.ofSeconds(2).plusMillis(1));
        for (CompletableFuture<DonorReply> reply : replies) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> reply.get(5, TimeUnit.SECONDS));
            assertInstanceOf(DonorUnavailableException.class, e.getCause());
        }
        assertEquals(0, conn.outstanding());
        guard.assertNoEventLoopBlocked();
    }

    /**
     * The client's own event loop stalls for longer than the request timeout (a host out of memory, a long GC), and
     * time with it; the donor answers shortly after the stall. The stall was the client's, not the donor's: the
     * request completes, and the donor keeps its good name. Before, the first sweep after the stall failed it.
     */
    @Test
    void aReplyThatWaitedWhileTheClientsOwnLoopStalledIsNotLate() throws Exception {
        Context context = guard.vertx().getOrCreateContext();
        DonorConnection conn = openOn(context);
        donor.script((h, b) -> FakeDonor.Action.HOLD);
        CompletableFuture<DonorReply> reply = ping(conn);
        long waitedFor = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (donor.heldCount() == 0) {
            assertTrue(System.nanoTime() < waitedFor, "the donor got the ping");
            Thread.sleep(5);
        }
        CountDownLatch stallEnded = new CountDownLatch(1);
        context.runOnContext(v -> {
            clock.advance(Duration.ofSeconds(3));
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stallEnded.countDown();
        });
        assertTrue(stallEnded.await(10, TimeUnit.SECONDS));
        Thread.sleep(300); // sweeps run after the stall, on time again
        assertFalse(reply.isDone(), "the request did not fail for the client's own stall: " + reply);
        donor.releaseHeld();
        reply.get(5, TimeUnit.SECONDS).body().release();
        assertEquals(0, conn.outstanding());
    }
}
