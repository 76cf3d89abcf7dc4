package dev.pagepool.node.net;

import dev.pagepool.node.config.ClientLimits;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.pool.Pool;
import dev.pagepool.node.pool.PoolAccess;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.pressure.WatermarkGuard;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.Scratch;
import dev.pagepool.node.metrics.NodeStatsView;
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
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Carries out one checked, authenticated request against the page store and writes its reply.
 *
 * <p>One instance per event-loop thread (see {@link DataServer}): it owns that thread's store scratch
 * buffers and checksum engine, so serving a vector of pages allocates nothing per page. Replies are written
 * into reserve buffers; when the reserve has none, the request is answered BUSY without being carried out.
 */
final class RequestProcessor {
    private final PageStore store;
    private final PoolRegistry pools;
    private final BufferReserve reserve;
    private final NodeCounters counters;
    private final String nodeName;
    private final NodeStatsView statsView;
    private final WatermarkGuard guard;
    private final Scratch scratch;
    private final PageChecksum checksum = new PageChecksum();
    private final int[] removedPerObject = new int[Frame.MAX_PAGES_PER_FRAME];
    private final ClientLimits limits;
    /** The pools of one client, for its page count; a client owns at most {@code limits.maxPools()}. */
    private final int[] ownedPools;

    RequestProcessor(PageStore store, PoolRegistry pools, BufferReserve reserve, NodeCounters counters,
                     NodeStatsView statsView, WatermarkGuard guard, String nodeName, ClientLimits limits) {
        this.limits = limits;
        // Twice the cap: NEW_POOLs racing on several event loops may pass it by a few, and a pool missed here
        // would be pages not counted.
        this.ownedPools = new int[2 * limits.maxPools()];
        this.guard = guard;
        this.store = store;
        this.pools = pools;
        this.reserve = reserve;
        this.counters = counters;
        this.nodeName = nodeName;
        this.statsView = statsView;
        this.scratch = store.newScratch();
    }

    /** The reply to a request on an authenticated connection; never null. */
    ByteBuf process(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Bodies.checkRequest(h, body);
        return switch (h.opcode()) {
            case Opcode.HELLO, Opcode.AUTH -> throw new ProtocolException(Status.MALFORMED, false,
                Opcode.name(h.opcode()) + " sent again on an authenticated connection");
            case Opcode.NEW_POOL -> newPool(conn, h, body);
            case Opcode.DESTROY_POOL -> destroyPool(conn, h, body);
            case Opcode.PUT -> put(conn, h, body);
            case Opcode.GET -> get(conn, h, body);
            case Opcode.FLUSH_PAGE -> flushPages(conn, h, body);
            case Opcode.FLUSH_OBJECT -> flushObjects(conn, h, body);
            case Opcode.STATS -> stats(h);
            case Opcode.HANDBACK -> throw new ProtocolException(Status.INVALID, false,
                "HANDBACK is sent by donors to clients; a client answers one with FLAG_RESPONSE set");
            case Opcode.PING -> {
                if (h.hasFlag(Frame.FLAG_FENCE)) {
                    fence(conn);
                }
                ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + body.readableBytes());
                FrameWriter.pong(reply, h.requestId(), body);
                yield reply;
            }
            default -> throw new ProtocolException(Status.UNKNOWN_OPCODE, false, "unknown opcode " + h.opcode());
        };
    }

    private ByteBuf newPool(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        if (Bodies.newPoolPageSize(body) != Frame.PAGE_BYTES) {
            throw new ProtocolException(Status.INVALID, false,
                "page size " + Bodies.newPoolPageSize(body) + " not supported; pools hold " + Frame.PAGE_BYTES + "-byte pages");
        }
        PoolSpec spec = Bodies.newPoolSpec(body);
        // Checked per request, so clients racing on several event loops may pass the cap by a pool or two.
        if (!pools.joinsExisting(spec) && pools.countOwnedBy(conn.ownerKey()) >= limits.maxPools()) {
            throw new ProtocolException(Status.OVER_LIMIT, false, "this client already has " + limits.maxPools()
                + " pools on this donor (pagepool.node.max-pools-per-client): destroy one first");
        }
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + 4);
        Pool pool = pools.create(spec, conn.clientId(), conn.ownerKey());
        if (pool.shared() && !conn.grants().add(pool.id())) {
            reserve.release(reply);
            throw new ProtocolException(Status.INVALID, false, "this connection has joined too many shared pools");
        }
        counters.poolsCreated.increment();
        FrameWriter.newPoolReply(reply, h.requestId(), pool.id());
        return reply;
    }

    private ByteBuf destroyPool(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Pool pool = pools.find(Bodies.destroyPoolId(body));
        checkAccess(pool, conn, Bodies.destroyPoolId(body));
        checkNotFenced(pool, conn);
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + 8);
        pools.remove(pool.id());
        conn.grants().remove(pool.id());
        long removed = store.destroyPool(pool.id(), pool.persistent());
        counters.poolsDestroyed.increment();
        FrameWriter.destroyPoolReply(reply, h.requestId(), removed);
        return reply;
    }

    private ByteBuf put(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Pool pool = writablePool(conn, body);
        int count = Bodies.count(body);
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
        int start = FrameWriter.statusVectorReply(reply, Opcode.PUT, h.requestId(), count);
        // Checked once per frame: a frame that arrives while the reserve is half used is turned away whole,
        // which is what keeps the other half for gets, flushes and hand-back; so is one that arrives at the low
        // watermark or during a drain. A rejected put still removes the handle's older version (below).
        boolean admitted = reserve.admitsPuts() && guard.admitsPuts();
        // The owner's page limit, counted once per frame; a replaced page is counted as new, which errs on the
        // side of the other clients.
        long ownerRoom = limits.limitsPages()
            ? limits.maxPages() - store.pagesInPools(ownedPools, pools.idsOwnedBy(pool.ownerKey(), ownedPools))
            : Long.MAX_VALUE;
        int overLimit = 0;
        // The reserve's buffers are plain direct buffers: their NIO view shares the ByteBuf's indexes, and
        // every user below reads it at absolute offsets and leaves position and limit as they were.
        ByteBuffer src = body.internalNioBuffer(0, body.capacity());
        int rejected = 0;
        int badCrc = 0;
        for (int i = 0; i < count; i++) {
            long object = Bodies.putObject(body, i);
            int index = Bodies.putIndex(body, i);
            int dataIndex = Bodies.putDataIndex(body, i);
            int status;
            if (checksum.of(src, dataIndex, Frame.PAGE_BYTES) != Bodies.putCrc(body, i)) {
                store.flushPage(pool.id(), pool.persistent(), object, index);
                status = Status.PAGE_BAD_CRC;
                badCrc++;
            } else if (!admitted || ownerRoom <= 0) {
                store.flushPage(pool.id(), pool.persistent(), object, index);
                status = Status.PAGE_REJECTED;
                rejected++;
                overLimit += admitted ? 1 : 0;
            } else if (store.put(scratch, pool.id(), pool.persistent(), object, index, Bodies.putVersion(body, i),
                src, dataIndex) == PageStore.STORED) {
                status = Status.PAGE_OK;
                ownerRoom--;
            } else {
                status = Status.PAGE_REJECTED;
                rejected++;
            }
            reply.writeByte(status);
        }
        if (pool.destroyed()) {
            // Destroyed on another event loop after this frame found it: the destroy may have freed the pool's
            // pages before these arrived, so free them here, or they would stay counted and owned by no pool.
            store.destroyPool(pool.id(), pool.persistent());
            reserve.release(reply);
            counters.puts.add(count);
            counters.putsRejected.add(count);
            throw new ProtocolException(Status.NO_SUCH_POOL, false,
                "pool " + Integer.toUnsignedString(pool.id()) + " was destroyed while this PUT was served; nothing is stored");
        }
        FrameWriter.patchBodyLength(reply, start);
        counters.puts.add(count);
        counters.putsRejected.add(rejected);
        counters.putsBadCrc.add(badCrc);
        counters.putsOverClientLimit.add(overLimit);
        return reply;
    }

    private ByteBuf get(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Pool pool = accessiblePool(conn, body);
        int count = Bodies.count(body);
        // tmem: a get from a shared pool never removes the page, whatever the client asks.
        boolean exclusive = h.hasFlag(Frame.FLAG_EXCLUSIVE) && !pool.shared();
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + Frame.getReplyBytes(count, count));
        int start = FrameWriter.statusVectorReply(reply, Opcode.GET, h.requestId(), count);
        int statusIndex = reply.writerIndex();
        reply.writerIndex(statusIndex + count);
        ByteBuffer dst = reply.internalNioBuffer(0, reply.capacity());
        int misses = 0;
        for (int i = 0; i < count; i++) {
            int crcIndex = reply.writerIndex();
            int dataIndex = crcIndex + 4;
            int found = store.get(scratch, pool.id(), pool.persistent(), Bodies.keyObject(body, i), Bodies.keyIndex(body, i),
                exclusive, dst, dataIndex);
            if (found == PageStore.HIT) {
                reply.setByte(statusIndex + i, Status.PAGE_OK);
                reply.setInt(crcIndex, checksum.of(dst, dataIndex, Frame.PAGE_BYTES));
                reply.writerIndex(dataIndex + Frame.PAGE_BYTES);
            } else {
                reply.setByte(statusIndex + i, Status.PAGE_MISS);
                misses++;
            }
        }
        FrameWriter.patchBodyLength(reply, start);
        counters.gets.add(count);
        counters.getMisses.add(misses);
        return reply;
    }

    private ByteBuf flushPages(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Pool pool = writablePool(conn, body);
        int count = Bodies.count(body);
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + Frame.statusVectorBytes(count));
        int start = FrameWriter.statusVectorReply(reply, Opcode.FLUSH_PAGE, h.requestId(), count);
        int flushed = 0;
        for (int i = 0; i < count; i++) {
            boolean removed = store.flushPage(pool.id(), pool.persistent(), Bodies.keyObject(body, i), Bodies.keyIndex(body, i));
            reply.writeByte(removed ? Status.PAGE_OK : Status.PAGE_MISS);
            flushed += removed ? 1 : 0;
        }
        FrameWriter.patchBodyLength(reply, start);
        counters.flushedPages.add(flushed);
        return reply;
    }

    private ByteBuf flushObjects(ConnectionState conn, FrameHeader h, ByteBuf body) throws ProtocolException {
        Pool pool = writablePool(conn, body);
        int count = Bodies.count(body);
        ByteBuf reply = replyBuffer(Frame.HEADER_BYTES + Frame.STATUS_VECTOR_PREFIX_BYTES + 4 * count);
        long flushed = 0;
        for (int i = 0; i < count; i++) {
            removedPerObject[i] = store.flushObject(pool.id(), pool.persistent(), Bodies.flushObject(body, i));
            flushed += removedPerObject[i];
        }
        FrameWriter.flushObjectReply(reply, h.requestId(), removedPerObject, count);
        counters.flushedObjects.add(count);
        counters.flushedPages.add(flushed);
        return reply;
    }

    private ByteBuf stats(FrameHeader h) throws ProtocolException {
        Map<String, Long> snapshot = statsView.snapshot();
        String[] names = snapshot.keySet().toArray(new String[0]);
        long[] values = new long[names.length];
        for (int i = 0; i < names.length; i++) {
            values[i] = snapshot.get(names[i]);
        }
        ByteBuf reply = replyBuffer(BufferReserve.SMALL_BUFFER_BYTES);
        FrameWriter.statsReply(reply, h.requestId(), names, values);
        return reply;
    }

    private Pool accessiblePool(ConnectionState conn, ByteBuf body) throws ProtocolException {
        int id = Bodies.pool(body);
        Pool pool = pools.find(id);
        checkAccess(pool, conn, id);
        return pool;
    }

    /** A pool this connection may change: accessible, and the connection not fenced by a newer one of its owner. */
    private Pool writablePool(ConnectionState conn, ByteBuf body) throws ProtocolException {
        Pool pool = accessiblePool(conn, body);
        checkNotFenced(pool, conn);
        return pool;
    }

    private static void checkNotFenced(Pool pool, ConnectionState conn) throws ProtocolException {
        if (!pool.admitsWritesFrom(conn.sequence())) {
            throw new ProtocolException(Status.FENCED, false, "pool " + Integer.toUnsignedString(pool.id())
                + " was fenced by a newer connection of its owner: this one may no longer change it");
        }
    }

    /** PING with FLAG_FENCE: the client's older connections may no longer change its private pools. */
    private void fence(ConnectionState conn) {
        for (Pool pool : pools.ownedBy(conn.ownerKey())) {
            pool.fence(conn.sequence());
        }
    }

    private void checkAccess(Pool pool, ConnectionState conn, int id) throws ProtocolException {
        PoolAccess access = PoolRegistry.access(pool, conn.ownerKey(), conn.grants());
        switch (access) {
            case GRANTED -> {
            }
            case NO_SUCH_POOL -> throw new ProtocolException(Status.NO_SUCH_POOL, false,
                "no pool " + Integer.toUnsignedString(id) + " for this client: create it with NEW_POOL first");
            case BAD_SECRET -> throw new ProtocolException(Status.BAD_SECRET, false, pool.shared()
                ? "pool " + Integer.toUnsignedString(id) + " is shared: present its UUID with NEW_POOL on this connection before using it"
                : "pool " + Integer.toUnsignedString(id) + " is private and this connection did not prove its secret (the owner"
                    + " key in AUTH, derived from the pool secret of the client that created it): only its creator may use it");
        }
    }

    private ByteBuf replyBuffer(int bytes) throws ProtocolException {
        ByteBuf reply = reserve.acquire(bytes);
        if (reply == null) {
            counters.busyReplies.increment();
            throw new ProtocolException(Status.BUSY, false, "reply buffers exhausted; retry shortly");
        }
        return reply;
    }
}
