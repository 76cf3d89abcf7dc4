package dev.pagepool.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pagepool.node.config.ClientLimits;
import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.metrics.NodeStatsView;
import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.DonorBudget;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.pressure.Watermarks;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreSettings;
import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * DESTROY_POOL on one event loop racing a PUT of the same pool on another: the PUT has found the pool, the
 * destroy then runs to the end, and only then does the PUT store its pages. Those pages must not stay behind,
 * counted by the store and owned by no pool (pool ids are never reused, so nothing would ever free them).
 *
 * <p>The interleaving is scripted with two request processors, one per "event loop", each with its own reply
 * reserve: the test holds the PUT processor's reserve, which the PUT asks for a reply buffer right after its
 * pool lookup and before it stores anything, so the PUT waits exactly there while the destroy runs.
 */
class DestroyRacingPutTest {
    private static final long CLIENT = 7;
    private static final int PAGES = 4;

    private final PageStore store = new PageStore(new StoreSettings(16L << 20, 1 << 20, true));
    private final PoolRegistry pools = new PoolRegistry();
    private final NodeCounters counters = new NodeCounters();
    private final BufferReserve putLoopReserve = new BufferReserve(8L << 20);
    private final BufferReserve destroyLoopReserve = new BufferReserve(8L << 20);
    private final DonorBudget budget = new DonorBudget(store, Watermarks.DEFAULT, 16L << 20);
    private final WatermarkGuard guard = new WatermarkGuard(store, budget,
        new HandbackSender(store, destroyLoopReserve, pools, counters, 1000));
    private final NodeStatsView stats = new NodeStatsView(store, counters, destroyLoopReserve, guard, budget);
    private final RequestProcessor putLoop = processor(putLoopReserve);
    private final RequestProcessor destroyLoop = processor(destroyLoopReserve);

    private RequestProcessor processor(BufferReserve reserve) {
        return new RequestProcessor(store, pools, reserve, counters, stats, guard, "test-donor", new ClientLimits(0, 0));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static ConnectionState connectionOf(long clientId) {
        ConnectionState conn = new ConnectionState();
        conn.authenticate(clientId, DataPortClient.keyOf(clientId));
        return conn;
    }

    /** A request as the decoder hands it over: header, and the body alone in a direct buffer. */
    private record Request(FrameHeader header, ByteBuf body) {
    }

    private static Request request(ByteBuf frame) {
        int bodyLength = frame.getInt(Frame.BODY_LENGTH_OFFSET);
        FrameHeader header = new FrameHeader(frame.getUnsignedByte(Frame.OPCODE_OFFSET),
            frame.getUnsignedShort(Frame.FLAGS_OFFSET), frame.getLong(Frame.REQUEST_ID_OFFSET), bodyLength, 0);
        ByteBuf body = Unpooled.directBuffer(Math.max(1, bodyLength));
        body.writeBytes(frame, Frame.HEADER_BYTES, bodyLength);
        return new Request(header, body);
    }

    private static Request put(int pool) {
        ByteBuf frame = Unpooled.buffer();
        FrameWriter.vector(frame, Opcode.PUT, 0, 1, pool, PAGES);
        PageChecksum crc = new PageChecksum();
        for (int i = 0; i < PAGES; i++) {
            byte[] page = new byte[Frame.PAGE_BYTES];
            page[0] = (byte) (i + 1);
            page[Frame.PAGE_BYTES - 1] = (byte) 0x5A; // not same-filled: each page takes a slab slot
            FrameWriter.putEntry(frame, 3, i, crc.of(page, 0, Frame.PAGE_BYTES), i, page, 0);
        }
        return request(frame);
    }

    private static Request destroy(int pool) {
        ByteBuf frame = Unpooled.buffer();
        FrameWriter.destroyPool(frame, 2, pool);
        return request(frame);
    }

    /** Waits, bounded, until {@code t} is blocked on {@code monitor}'s lock; fails if it ends or waits elsewhere. */
    private static void awaitBlockedOn(Thread t, Object monitor) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(t.getId());
            if (info != null && info.getThreadState() == Thread.State.BLOCKED && info.getLockInfo() != null
                && info.getLockInfo().getIdentityHashCode() == System.identityHashCode(monitor)) {
                return;
            }
            if (!t.isAlive()) {
                fail("the PUT finished without waiting for a reply buffer: the script no longer holds it there");
            }
            Thread.sleep(1);
        }
        fail("the PUT never reached its reply buffer");
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aPutThatFoundThePoolBeforeItsDestroyLeavesNoPageBehind() throws Exception {
        Pool pool = pools.create(PoolSpec.privatePool(true), CLIENT, DataPortClient.keyOf(CLIENT));
        Request put = put(pool.id());
        AtomicReference<Object> putOutcome = new AtomicReference<>();
        Thread putter = new Thread(() -> {
            try {
                putOutcome.set(putLoop.process(connectionOf(CLIENT), put.header(), put.body()));
            } catch (ProtocolException | RuntimeException e) {
                putOutcome.set(e);
            }
        }, "put event loop");

        synchronized (putLoopReserve) {
            putter.start();
            awaitBlockedOn(putter, putLoopReserve); // the PUT holds the pool, and has stored nothing yet
            Request destroy = destroy(pool.id());
            ByteBuf destroyed = destroyLoop.process(connectionOf(CLIENT), destroy.header(), destroy.body());
            assertEquals(Status.OK, destroyed.getUnsignedShort(Frame.STATUS_OFFSET));
            assertEquals(0, destroyed.getLong(Frame.HEADER_BYTES), "the pool held no page when it was destroyed");
            destroyLoopReserve.release(destroyed);
            assertNull(pools.find(pool.id()));
        }
        putter.join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(!putter.isAlive(), "the PUT finished");

        assertEquals(0, store.persistentPages(), "pages put into a destroyed pool are left in the store");
        assertEquals(0, store.stats().usedBytes(), "and so is their slab memory");
        Object outcome = putOutcome.get();
        if (outcome instanceof ByteBuf reply) {
            ByteBuf body = reply.slice(Frame.HEADER_BYTES, reply.readableBytes() - Frame.HEADER_BYTES);
            for (int i = 0; i < PAGES; i++) {
                assertTrue(Bodies.replyStatus(body, i) != Status.PAGE_OK, "page " + i + " reported stored in a destroyed pool");
            }
            putLoopReserve.release(reply);
        } else if (outcome instanceof ProtocolException e) {
            assertEquals(Status.NO_SUCH_POOL, e.status(), e.getMessage());
        } else {
            throw new AssertionError("the PUT failed", (Throwable) outcome);
        }
    }
}
