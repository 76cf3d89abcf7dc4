package dev.pagepool.client;

import java.util.concurrent.CompletableFuture;

/**
 * Which connection carries a call's frames to a donor. The caller of a replicated put, get or flush chooses it and
 * hands it down: the client's event-loop connections ({@link DonorSet}), or, for a synchronous call that runs on
 * its caller's thread, that thread's own lanes ({@link CallerLanes}). Nothing else routes a frame.
 */
interface WireSource {
    /** A connection to the donor of {@code link} for one request; never waits. */
    CompletableFuture<DonorWire> connection(DonorLink link);
}
