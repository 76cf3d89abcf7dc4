package dev.pagepool.node.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * The donor's operation counters, shared by the data server (which bumps them once per frame, adding the
 * page count) and by the admin and metrics views (which read them). LongAdder because several event loops
 * write at once and reads are rare.
 */
public final class NodeCounters {
    public final LongAdder puts = new LongAdder();
    public final LongAdder putsRejected = new LongAdder();
    public final LongAdder putsBadCrc = new LongAdder();
    public final LongAdder gets = new LongAdder();
    public final LongAdder getMisses = new LongAdder();
    public final LongAdder flushedPages = new LongAdder();
    public final LongAdder flushedObjects = new LongAdder();
    public final LongAdder poolsCreated = new LongAdder();
    public final LongAdder poolsDestroyed = new LongAdder();
    public final LongAdder busyReplies = new LongAdder();
    public final LongAdder protocolErrors = new LongAdder();
    public final LongAdder authFailures = new LongAdder();
    public final LongAdder connectionsOpened = new LongAdder();
    public final LongAdder connectionsOpen = new LongAdder();
    /** Of those, connections a client thread opened for its own calls (HELLO calls-only): they get no HANDBACK. */
    public final LongAdder connectionsCallsOnly = new LongAdder();
    /** Connections closed at accept: max-connections or the cap on connections still in the handshake reached. */
    public final LongAdder connectionsRefused = new LongAdder();
    /** Connections closed because their handshake was not done within the hello timeout. */
    public final LongAdder handshakeTimeouts = new LongAdder();
    /** Puts rejected because their client reached its page limit. */
    public final LongAdder putsOverClientLimit = new LongAdder();
    /** Persistent pages freed after their owner acknowledged holding them, and their uncompressed bytes. */
    public final LongAdder handedBackPages = new LongAdder();
    public final LongAdder handedBackBytes = new LongAdder();
    public final LongAdder handbackFrames = new LongAdder();
    /** Pages a client answered PAGE_REJECTED: they stay, and are offered again later. */
    public final LongAdder handbackRefused = new LongAdder();
    /** HANDBACK frames not answered within the ack timeout: their pages stay. */
    public final LongAdder handbackTimeouts = new LongAdder();
    /** Pages acknowledged whose handle had been put again meanwhile: the newer version was kept. */
    public final LongAdder handbackKeptNewer = new LongAdder();
}
