package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client's side of HANDBACK: pages a donor gives back are checked, handed to their pool's
 * {@link HandbackReceiver} (or the client's receiver for every pool) on a thread of their own (it writes to disk; event loops must not wait for that), and answered page by page. A
 * page is answered OK only once the receiver holds it; without a receiver, or for a pool this client does not
 * know, every page stays with the donor. The frame's own buffer is what the receiver reads: taking a page back
 * allocates nothing per page.
 */
final class HandbackTaker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HandbackTaker.class.getName());

    private final ClientPools pools;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(ClientThreads.daemon(ClientThreads.HANDBACK_WORKER));
    private final PageChecksum crc = new PageChecksum();
    /** Each pool's own receiver: two stores on one client each take their own pool's pages. */
    private final ConcurrentHashMap<PoolRef, HandbackReceiver> byPool = new ConcurrentHashMap<>();
    /** The receiver of every pool without one of its own, or null. */
    private final AtomicReference<HandbackReceiver> forEveryPool = new AtomicReference<>();

    HandbackTaker(ClientPools pools) {
        this.pools = pools;
    }

    /** Sets the receiver of every pool without one of its own; refuses a second one rather than drop the first. */
    void receiver(HandbackReceiver receiver) {
        if (!forEveryPool.compareAndSet(null, receiver)) {
            throw new IllegalStateException("this client already has a hand-back receiver for every pool: a second "
                + "one would silently take its pages; give each store its receiver for its own pool instead");
        }
    }

    /** Sets {@code pool}'s receiver; refuses a second one, which would take the first one's pages. */
    void receiver(PoolRef pool, HandbackReceiver receiver) {
        if (byPool.putIfAbsent(pool, receiver) != null) {
            throw new IllegalStateException("the " + pool.spec().kind() + " pool already has a hand-back receiver: "
                + "a second one would silently take the first one's pages");
        }
    }

    /** The pool was destroyed: its receiver goes with it. */
    void forget(PoolRef pool) {
        byPool.remove(pool);
    }

    /** Called on the connection's event loop. */
    void onRequest(DonorLink link, DonorConnection conn, FrameHeader header, ByteBuf body) {
        if (header.opcode() != Opcode.HANDBACK) {
            LOG.fine(() -> "ignoring a donor request with opcode " + header.opcode());
            body.release();
            return;
        }
        try {
            worker.execute(() -> {
                try {
                    conn.reply(answer(link, header, body));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "hand-back from " + link.name() + " failed; the donor keeps its pages", e);
                } finally {
                    body.release();
                }
            });
        } catch (RejectedExecutionException closed) {
            body.release();
        }
    }

    private ByteBuf answer(DonorLink link, FrameHeader header, ByteBuf body) {
        int count = Math.min(Bodies.count(body), Frame.MAX_HANDBACK_PAGES);
        PoolRef pool = pools.withId(link.index, Bodies.pool(body));
        HandbackReceiver to = pool == null ? null : byPool.getOrDefault(pool, forEveryPool.get());
        byte[] statuses = new byte[count];
        for (int i = 0; i < count; i++) {
            boolean held = false;
            int data = Bodies.putDataIndex(body, i);
            if (to != null && pool != null && crc.of(body, data, Frame.PAGE_BYTES) == Bodies.putCrc(body, i)) {
                long object = Bodies.putObject(body, i);
                int index = Bodies.putIndex(body, i);
                // A private pool's map says which copies hold a page as written; the receiver compares versions
                // only for those. A shared pool has no map here: its receiver's compare is all there is.
                ExtentMap.HandBack known = pool.spec().shared() ? ExtentMap.HandBack.COMPARE
                    : pool.extents.handedBack(object, index, link.index);
                try {
                    held = switch (known) {
                        case STALE -> true; // answered as taken: the donor frees what nobody will read
                        case NOT_YET -> false;
                        case COMPARE -> to.take(pool, object, index, Bodies.putVersion(body, i),
                            body.nioBuffer(data, Frame.PAGE_BYTES));
                    };
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "could not take a handed-back page; the donor keeps it", e);
                }
            }
            statuses[i] = (byte) (held ? Status.PAGE_OK : Status.PAGE_REJECTED);
        }
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
        FrameWriter.handbackReply(frame, header.requestId(), statuses, count);
        return frame;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
