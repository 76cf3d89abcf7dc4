package dev.pagepool.node.handback;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Future;

/**
 * Where a link's HANDBACK frames go: its connection's socket, with the socket's back-pressure. A frame's buffer is
 * the reserve's until its bytes have left the process, so the link must know when that is, and must not queue
 * frames for an owner that does not read.
 */
public interface HandbackOutput {
    /** Writes the frame; completes once its bytes have left the process, or failed (the connection closed). */
    Future<Void> write(ByteBuf frame);

    /** Whether the socket's write queue is above its high-water mark: the owner is not taking what it was sent. */
    boolean writeQueueFull();

    /** Runs {@code then} once, on the connection's event loop, when the write queue has drained. */
    void whenDrained(Runnable then);
}
