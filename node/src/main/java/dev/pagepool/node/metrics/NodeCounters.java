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
}
