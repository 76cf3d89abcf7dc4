package dev.pagepool.node.handback;

import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolAccess;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pool.SharedPoolGrants;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.node.store.HandbackPages;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * The donor's side of the hand-back exchange on one authenticated data connection, confined to that
 * connection's event loop (only {@link #wake} may be called from elsewhere).
 *
 * <p>A frame: the store copies up to 64 cold persistent pages of one pool this client owns straight into a
 * reserve buffer (uncompressed; the CRC32C is computed here, on the bytes as sent), the frame goes out as a
 * HANDBACK request with the next id of this link's counter, and its handles and tokens wait in a {@link Slot}.
 * The reply frees exactly the pages answered PAGE_OK whose handle still holds the version sent; every other
 * page stays. No reply within the ack timeout, or the connection closing, forgets the frame: its pages stay and
 * are sent again later. So a crash of either side loses nothing: the donor frees nothing unacknowledged, and
 * the client acknowledges only what it holds.
 *
 * <p>A frame holds a reserve buffer, and one of the sender's frames, until its bytes have left the process, not
 * only until it is answered or timed out: a frame that timed out may still sit in the socket's queue behind an
 * owner that stopped reading. And no frame is sent while the socket's queue is full, so such an owner holds at
 * most the frame that found the queue empty, until the idle timeout closes its connection, and the other owners
 * keep the rest of the hand-back's share of the reserve.
 */
public final class HandbackLink {
    private static final Logger LOG = Logger.getLogger(HandbackLink.class);
    /** Frames one connection may have unanswered: two keep the pipe busy while the client writes a batch. */
    static final int MAX_FRAMES_OUTSTANDING = 2;
    /** After a frame the client refused whole, or left unanswered, wait this long before offering pages again. */
    static final long REFUSED_BACKOFF_MILLIS = 1000;
    private static final int FRAME_BYTES = Frame.HEADER_BYTES + Frame.handbackBodyBytes(Frame.MAX_HANDBACK_PAGES);
    private static final int FIRST_ENTRY_OFFSET = Frame.HEADER_BYTES + Frame.VECTOR_PREFIX_BYTES;

    /** One frame's worth of hand-back: reused, so sending allocates nothing per page. */
    private static final class Slot {
        final HandbackPages pages = new HandbackPages(Frame.MAX_HANDBACK_PAGES);
        /** Its pages are out: waiting for the reply or the ack timeout. */
        boolean busy;
        /** Its frame has not left the process yet. */
        boolean writing;
        long requestId;
        long timer = -1;
    }

    private final HandbackSender sender;
    private final long clientId;
    private final SharedPoolGrants grants;
    /** What the connection proved: a page of a private pool goes only to a connection that holds the pool's secret. */
    private final OwnerKey ownerKey;
    private final Context context;
    private final HandbackOutput out;
    private final Slot[] slots = new Slot[MAX_FRAMES_OUTSTANDING];
    private final PageChecksum checksum = new PageChecksum();
    private final AtomicBoolean wakeQueued = new AtomicBoolean();
    private int[] eligiblePools = new int[8];
    private int eligibleCount;
    private long nextRequestId = 1;
    private long pausedUntilMillis;
    private boolean closed;
    /** A drain of the socket's write queue will wake this link. */
    private boolean awaitingDrain;
    /** The last look found nothing to send: the drain counts this link as done. */
    private volatile boolean exhausted;

    HandbackLink(HandbackSender sender, long clientId, OwnerKey ownerKey, SharedPoolGrants grants, Context context,
                 HandbackOutput out) {
        this.sender = sender;
        this.clientId = clientId;
        this.ownerKey = ownerKey;
        this.grants = grants;
        this.context = context;
        this.out = out;
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot();
        }
    }

    /** Asks the link, from any thread, to look for pages to send; several calls before it runs count as one. */
    public void wake() {
        if (wakeQueued.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                wakeQueued.set(false);
                pump();
            });
        }
    }

    boolean exhausted() {
        return exhausted;
    }

    /** Whether this connection may receive pages of the pool (as of its last look). */
    boolean reaches(int pool) {
        Pool p = sender.pools().find(pool);
        return p != null && owns(p);
    }

    private boolean owns(Pool p) {
        return PoolRegistry.access(p, ownerKey, grants) == PoolAccess.GRANTED;
    }

    /** Sends frames while the sender wants pages back and this link and the donor have room for them. */
    void pump() {
        if (closed || System.currentTimeMillis() < pausedUntilMillis) {
            return;
        }
        refreshEligiblePools();
        // Counted, not searched: a link with nothing to take must cost the store's lock next to nothing.
        if (eligibleCount == 0 || sender.store().handbackCandidates(eligiblePools, eligibleCount) == 0) {
            exhausted = true;
            return;
        }
        for (Slot slot : slots) {
            if (slot.busy || slot.writing) {
                continue;
            }
            if (!sender.wantsMore()) {
                return;
            }
            if (out.writeQueueFull()) {
                // The owner has not taken the last frame yet: another would only wait in the queue, on a buffer.
                awaitDrain();
                return;
            }
            if (!sender.tryTakeFrame()) {
                sender.waitForFrame(this);
                return;
            }
            if (!send(slot)) {
                sender.frameUnused();
                return;
            }
        }
    }

    private boolean send(Slot slot) {
        ByteBuf frame = sender.reserve().acquire(FRAME_BYTES);
        if (frame == null) {
            return false; // the reserve is busy with progress traffic; the next wake tries again
        }
        ByteBuffer nio = frame.internalNioBuffer(0, frame.capacity());
        HandbackPages pages = slot.pages;
        int n = sender.store().takeForHandback(eligiblePools, eligibleCount, sender.secondChance(), pages, nio,
            FIRST_ENTRY_OFFSET + Frame.PUT_ENTRY_DATA_OFFSET, Frame.PUT_ENTRY_BYTES);
        if (n == 0) {
            sender.reserve().release(frame);
            exhausted = true;
            return false;
        }
        exhausted = false;
        long requestId = nextRequestId++;
        FrameWriter.handback(frame, requestId, pages.pool(), n);
        for (int i = 0; i < n; i++) {
            int entry = frame.writerIndex();
            frame.setLong(entry + Frame.PUT_ENTRY_OBJECT_OFFSET, pages.object(i));
            frame.setInt(entry + Frame.PUT_ENTRY_INDEX_OFFSET, pages.index(i));
            frame.setInt(entry + Frame.PUT_ENTRY_CRC_OFFSET,
                checksum.of(nio, entry + Frame.PUT_ENTRY_DATA_OFFSET, Frame.PAGE_BYTES));
            frame.setLong(entry + Frame.PUT_ENTRY_VERSION_OFFSET, pages.version(i));
            frame.writerIndex(entry + Frame.PUT_ENTRY_BYTES);
        }
        slot.busy = true;
        slot.writing = true;
        slot.requestId = requestId;
        slot.timer = context.owner().setTimer(sender.ackTimeoutMillis(), id -> timedOut(slot, requestId));
        sender.counters().handbackFrames.increment();
        // The connection gives the buffer back to the reserve once written; the frame counts until then.
        out.write(frame).onComplete(ar -> written(slot));
        return true;
    }

    /** The frame's bytes left the process (or the connection closed): its buffer is back in the reserve. */
    private void written(Slot slot) {
        slot.writing = false;
        if (!slot.busy) {
            sender.frameDone();
            pump();
        }
    }

    private void awaitDrain() {
        if (!awaitingDrain) {
            awaitingDrain = true;
            out.whenDrained(() -> {
                awaitingDrain = false;
                pump();
            });
        }
    }

    /** The frame's pages are answered or forgotten; the frame itself is done once it has also been written. */
    private void settled(Slot slot) {
        slot.busy = false;
        if (!slot.writing) {
            sender.frameDone();
        }
    }

    /** A HANDBACK reply from the client: frees what it holds now, keeps the rest. */
    public void onReply(FrameHeader header, ByteBuf body) {
        Slot slot = pending(header.requestId());
        if (slot == null) {
            LOG.debugf("HANDBACK reply %d from client %s matches no frame in flight (late, or never sent): ignored",
                header.requestId(), Long.toUnsignedString(clientId));
            return;
        }
        context.owner().cancelTimer(slot.timer);
        HandbackPages pages = slot.pages;
        if (header.status() != Status.OK) {
            LOG.debugf("client %s answered HANDBACK %d with %s: its %d pages stay", Long.toUnsignedString(clientId),
                header.requestId(), Status.requestName(header.status()), pages.count());
            finish(slot, 0, pages.count());
            return;
        }
        try {
            Bodies.checkStatusVector(body, pages.count());
        } catch (ProtocolException e) {
            LOG.debugf("client %s sent a bad HANDBACK reply %d (%s): its pages stay", Long.toUnsignedString(clientId),
                header.requestId(), e.getMessage());
            finish(slot, 0, pages.count());
            return;
        }
        PageStore store = sender.store();
        int freed = 0;
        int refused = 0;
        for (int i = 0; i < pages.count(); i++) {
            if (Bodies.replyStatus(body, i) == Status.PAGE_OK) {
                if (store.releaseIfUnchanged(pages.pool(), pages.object(i), pages.index(i), pages.token(i))) {
                    freed++;
                } else {
                    sender.counters().handbackKeptNewer.increment();
                }
            } else {
                store.forgetHandback(pages.pool(), pages.object(i), pages.index(i), pages.token(i));
                refused++;
            }
        }
        sender.counters().handedBackPages.add(freed);
        sender.counters().handedBackBytes.add((long) freed * Frame.PAGE_BYTES);
        sender.counters().handbackRefused.add(refused);
        if (refused == pages.count()) {
            backOff();
        }
        if (refused > 0) {
            sender.pagesReturned();
        }
        exhausted = false;
        settled(slot);
        pump();
    }

    /** A HANDBACK reply the decoder could not take (too large, no buffer): the frame's pages stay. */
    public void onReplyLost(long requestId) {
        Slot slot = pending(requestId);
        if (slot != null) {
            context.owner().cancelTimer(slot.timer);
            finish(slot, 0, slot.pages.count());
        }
    }

    /** The connection closed: every frame in flight is forgotten, its pages stay for another connection or later. */
    public void close() {
        closed = true;
        for (Slot slot : slots) {
            if (slot.busy) {
                context.owner().cancelTimer(slot.timer);
                finish(slot, 0, slot.pages.count());
            }
        }
        sender.closed(this);
    }

    private void timedOut(Slot slot, long requestId) {
        if (!slot.busy || slot.requestId != requestId) {
            return;
        }
        LOG.infof("client %s did not answer HANDBACK %d within %d ms: its %d pages stay and will be offered again",
            Long.toUnsignedString(clientId), requestId, sender.ackTimeoutMillis(), slot.pages.count());
        sender.counters().handbackTimeouts.increment();
        backOff();
        finish(slot, 0, slot.pages.count());
    }

    /** Offers nothing for a while: the client refused a whole frame or did not answer one. */
    private void backOff() {
        pausedUntilMillis = System.currentTimeMillis() + REFUSED_BACKOFF_MILLIS;
        context.owner().setTimer(REFUSED_BACKOFF_MILLIS, id -> wake());
    }

    /** Forgets every page of the slot (from {@code from} on) and frees the slot. */
    private void finish(Slot slot, int from, int to) {
        HandbackPages pages = slot.pages;
        PageStore store = sender.store();
        for (int i = from; i < to; i++) {
            store.forgetHandback(pages.pool(), pages.object(i), pages.index(i), pages.token(i));
        }
        // Its pages are eligible again: until a look says otherwise, this link has work.
        exhausted = false;
        settled(slot);
        sender.pagesReturned();
    }

    private Slot pending(long requestId) {
        for (Slot slot : slots) {
            if (slot.busy && slot.requestId == requestId) {
                return slot;
            }
        }
        return null;
    }

    /** The persistent pools this connection can take pages of, sorted, refreshed once per look. */
    private void refreshEligiblePools() {
        eligibleCount = 0;
        for (Pool p : sender.pools().all()) {
            if (p.persistent() && owns(p)) {
                if (eligibleCount == eligiblePools.length) {
                    eligiblePools = Arrays.copyOf(eligiblePools, eligibleCount * 2);
                }
                eligiblePools[eligibleCount++] = p.id();
            }
        }
        Arrays.sort(eligiblePools, 0, eligibleCount);
    }
}
