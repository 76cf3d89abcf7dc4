package dev.pagepool.node.handback;

import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pool.SharedPoolGrants;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.node.store.PageStore;
import io.vertx.core.Context;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * Decides when the donor hands persistent pages back, and keeps the links (one per authenticated data
 * connection) through which it can.
 *
 * <p>Two reasons to hand back: pressure (the level reached MIN; hand back coldest first until slab use is
 * below the low watermark) and drain (hand back everything). Each link pulls batches of up to
 * {@code Frame.MAX_HANDBACK_PAGES} pages of the pools its client owns and keeps at most
 * {@link HandbackLink#MAX_FRAMES_OUTSTANDING} frames unanswered; across all links at most {@link #maxFrames()}
 * frames are out at once, a quarter of the reserve's large buffers, so hand-back never starves the gets and
 * flushes that share the reserve.
 */
public final class HandbackSender {
    private static final Logger LOG = Logger.getLogger(HandbackSender.class);

    enum Mode { IDLE, PRESSURE, DRAIN }

    private final PageStore store;
    private final BufferReserve reserve;
    private final PoolRegistry pools;
    private final NodeCounters counters;
    private final long ackTimeoutMillis;
    private final int maxFrames;
    private final AtomicInteger framesOut = new AtomicInteger();
    private final Set<HandbackLink> links = ConcurrentHashMap.newKeySet();
    /** Links that had pages to send and found every frame taken: the only ones a freed frame wakes. */
    private final Set<HandbackLink> waitingForFrame = ConcurrentHashMap.newKeySet();
    private volatile Mode mode = Mode.IDLE;
    private volatile long targetUsedBytes;

    public HandbackSender(PageStore store, BufferReserve reserve, PoolRegistry pools, NodeCounters counters,
                          long ackTimeoutMillis) {
        this.store = store;
        this.reserve = reserve;
        this.pools = pools;
        this.counters = counters;
        this.ackTimeoutMillis = ackTimeoutMillis;
        this.maxFrames = Math.max(1, reserve.largeBuffers() / 4);
    }

    /** A link for a connection that just authenticated as {@code clientId} with {@code ownerKey}; call on its event loop. */
    public HandbackLink open(long clientId, OwnerKey ownerKey, SharedPoolGrants grants, Context context,
                             HandbackOutput out) {
        HandbackLink link = new HandbackLink(this, clientId, ownerKey, grants, context, out);
        links.add(link);
        if (mode != Mode.IDLE) {
            link.wake();
        }
        return link;
    }

    void closed(HandbackLink link) {
        links.remove(link);
        waitingForFrame.remove(link);
    }

    /** Pressure: hand back coldest first until slab use is below {@code usedBytes} (the low watermark). */
    public void handBackUntilBelow(long usedBytes) {
        targetUsedBytes = usedBytes;
        if (mode == Mode.IDLE) {
            mode = Mode.PRESSURE;
            LOG.infof("handing persistent pages back until use is below %d bytes", usedBytes);
        }
        wakeAll();
    }

    /** Ends pressure hand-back (not a drain); frames already out are still answered and acted on. */
    public void stopPressure() {
        if (mode == Mode.PRESSURE) {
            mode = Mode.IDLE;
        }
    }

    /** Drain: hand back every persistent page that has a connected owner. Stays on until the process ends. */
    public void drain() {
        mode = Mode.DRAIN;
        wakeAll();
    }

    public boolean handingBack() {
        return mode != Mode.IDLE;
    }

    public void wakeAll() {
        for (HandbackLink link : links) {
            link.wake();
        }
    }

    /** Frames sent and not yet both written and answered (or timed out, or abandoned). */
    public int framesOutstanding() {
        return framesOut.get();
    }

    /** True when no link has a frame out and the last look of every link found nothing it could send. */
    public boolean quiet() {
        if (framesOut.get() > 0) {
            return false;
        }
        for (HandbackLink link : links) {
            if (!link.exhausted()) {
                return false;
            }
        }
        return true;
    }

    /** Whether some connected client owns (private) or has joined (shared) the pool. */
    public boolean reachable(int pool) {
        for (HandbackLink link : links) {
            if (link.reaches(pool)) {
                return true;
            }
        }
        return false;
    }

    public int maxFrames() {
        return maxFrames;
    }

    // ---- for links ----

    boolean wantsMore() {
        return switch (mode) {
            case DRAIN -> true;
            case PRESSURE -> store.usedBytes() > targetUsedBytes;
            case IDLE -> false;
        };
    }

    /** Coldest first under pressure; everything, in any order, on drain. */
    boolean secondChance() {
        return mode != Mode.DRAIN;
    }

    boolean tryTakeFrame() {
        for (;;) {
            int out = framesOut.get();
            if (out >= maxFrames) {
                return false;
            }
            if (framesOut.compareAndSet(out, out + 1)) {
                return true;
            }
        }
    }

    /** The link has pages to send but every frame is out: {@link #frameDone} wakes it. */
    void waitForFrame(HandbackLink link) {
        waitingForFrame.add(link);
        // A frame may have come free between the link's try and its joining the set.
        if (framesOut.get() < maxFrames) {
            wakeWaiting();
        }
    }

    void frameDone() {
        framesOut.decrementAndGet();
        // A frame came free: only links held back by the global limit need a look; a link with nothing to send
        // would only take the store's lock to learn so.
        if (mode != Mode.IDLE) {
            wakeWaiting();
        }
    }

    /**
     * Pages went back to the store unsent or refused: another link of their owner (a second connection, or a
     * member of a shared pool) may take them now, so every link looks. Rare: a timeout, a refusal, a closed link.
     */
    void pagesReturned() {
        if (mode != Mode.IDLE) {
            wakeAll();
        }
    }

    private void wakeWaiting() {
        for (HandbackLink link : waitingForFrame) {
            if (waitingForFrame.remove(link)) {
                link.wake();
            }
        }
    }

    /** A frame slot taken but not used (nothing to send, no buffer): no one needs waking for it. */
    void frameUnused() {
        framesOut.decrementAndGet();
    }

    PageStore store() {
        return store;
    }

    BufferReserve reserve() {
        return reserve;
    }

    PoolRegistry pools() {
        return pools;
    }

    NodeCounters counters() {
        return counters;
    }

    long ackTimeoutMillis() {
        return ackTimeoutMillis;
    }
}
