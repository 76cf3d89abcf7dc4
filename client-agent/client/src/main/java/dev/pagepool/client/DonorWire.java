package dev.pagepool.client;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;

/**
 * What a call needs of a connection to a donor: request ids, a frame sent and its reply. The client's event-loop
 * connections ({@link DonorConnection}) are one kind; a caller thread's own connection ({@link CallerLane}) is the
 * other, and the replicated operations cannot tell them apart.
 */
interface DonorWire {
    long nextRequestId();

    /**
     * Sends a frame written with request id {@code requestId} and takes it over (releases it). The future completes
     * with the reply, or fails with a {@link PagePoolException}: the donor's status, a timeout, a closed connection.
     */
    CompletableFuture<DonorReply> send(long requestId, ByteBuf frame);

    /** The donor, for messages. */
    String name();

    /**
     * Completes after a pause of {@code micros}, on the thread that may write to this wire next: a frame the donor
     * answered BUSY goes again then ({@link BusyRetry}). An event-loop connection's pause is kept by the client's
     * conductor on the client's clock and ends on the connection's loop ({@link BusyPauses}); a caller's lane pauses
     * its caller's thread, the only one that may write to it.
     */
    CompletableFuture<Void> after(long micros);
}
