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
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The client's side of HANDBACK: pages a donor gives back are checked, handed to the {@link HandbackReceiver} on
 * a thread of their own (it writes to disk; event loops must not wait for that), and answered page by page. A
 * page is answered OK only once the receiver holds it; without a receiver, or for a pool this client does not
 * know, every page stays with the donor. The frame's own buffer is what the receiver reads: taking a page back
 * allocates nothing per page.
 */
final class HandbackTaker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(HandbackTaker.class.getName());

    private final ClientPools pools;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(ClientThreads.daemon(ClientThreads.HANDBACK_WORKER));
    private final PageChecksum crc = new PageChecksum();
    private volatile HandbackReceiver receiver;

    HandbackTaker(ClientPools pools) {
        this.pools = pools;
    }

    void receiver(HandbackReceiver receiver) {
        this.receiver = receiver;
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
        HandbackReceiver to = receiver;
        byte[] statuses = new byte[count];
        for (int i = 0; i < count; i++) {
            boolean held = false;
            int data = Bodies.putDataIndex(body, i);
            if (to != null && pool != null && crc.of(body, data, Frame.PAGE_BYTES) == Bodies.putCrc(body, i)) {
                try {
                    held = to.take(pool, Bodies.putObject(body, i), Bodies.putIndex(body, i), Bodies.putVersion(body, i),
                        body.nioBuffer(data, Frame.PAGE_BYTES));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "could not take a handed-back page; the donor keeps it", e);
                }
            }
            statuses[i] = (byte) (held ? Status.PAGE_OK : Status.PAGE_REJECTED);
        }
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
        FrameWriter.handbackReply(frame, header.requestId(), statuses, count);
        return frame;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
