package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Handle;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;

/**
 * One frame to one donor and its reply, for each vectored operation. The frame names the batch positions
 * {@code picks[0..k)}; each page's outcome is handed to a {@link PageResult} by position. A frame the donor
 * answers BUSY is sent again ({@link BusyRetry}); placement, replicas and failover are the caller's business.
 */
final class FrameCalls {
    private static final ThreadLocal<PageChecksum> CHECKSUM = ThreadLocal.withInitial(PageChecksum::new);

    /** The outcome of one page of a frame: a page status code of the protocol. */
    @FunctionalInterface
    interface PageResult {
        void accept(int position, int status);
    }

    private FrameCalls() {
    }

    /** Puts pages with the caller's versions ({@code versions[i]} for position i; all 0 when null). */
    static CompletableFuture<Void> put(DonorWire conn, int donorPool, long[] objects, int[] indexes, long[] versions,
                                       PageSlots pages, int[] picks, int k, PageResult result) {
        return BusyRetry.send(conn, () -> sendPut(conn, donorPool, objects, indexes, versions, pages, picks, k, result));
    }

    private static CompletableFuture<Void> sendPut(DonorWire conn, int donorPool, long[] objects, int[] indexes,
            long[] versions, PageSlots pages, int[] picks, int k, PageResult result) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.putBodyBytes(k));
        FrameWriter.vector(frame, Opcode.PUT, 0, id, donorPool, k);
        PageChecksum crc = CHECKSUM.get();
        for (int j = 0; j < k; j++) {
            int i = picks[j];
            byte[] page = pages.array(i);
            int at = pages.offset(i);
            FrameWriter.putEntry(frame, objects[i], indexes[i], crc.of(page, at, Frame.PAGE_BYTES),
                versions == null ? 0 : versions[i], page, at);
        }
        return conn.send(id, frame).thenAccept(r -> DonorReply.withBody(r, b -> {
            checkStatusVector(conn, b, k);
            for (int j = 0; j < k; j++) {
                result.accept(picks[j], Bodies.replyStatus(b, j));
            }
            return null;
        }));
    }

    /** Gets into {@code dst}; every hit's CRC is checked before any page is copied out. */
    static CompletableFuture<Void> get(DonorWire conn, int donorPool, boolean exclusive, long[] objects,
                                       int[] indexes, PageSlots dst, int[] picks, int k, PageResult result) {
        return BusyRetry.send(conn, () -> sendGet(conn, donorPool, exclusive, objects, indexes, dst, picks, k, result));
    }

    private static CompletableFuture<Void> sendGet(DonorWire conn, int donorPool, boolean exclusive, long[] objects,
            int[] indexes, PageSlots dst, int[] picks, int k, PageResult result) {
        long id = conn.nextRequestId();
        ByteBuf frame = keyFrame(id, Opcode.GET, exclusive ? Frame.FLAG_EXCLUSIVE : 0, donorPool, objects, indexes, picks, k);
        return conn.send(id, frame).thenAccept(r -> DonorReply.withBody(r, b -> {
            int hits = checkStatusVectorPrefix(conn, b, k);
            if (b.readableBytes() != Frame.getReplyBytes(k, hits)) {
                throw new ProtocolViolationException("GET reply from " + conn.name() + " has " + b.readableBytes()
                    + " bytes for " + k + " pages and " + hits + " hits");
            }
            PageChecksum crc = CHECKSUM.get();
            for (int j = 0, hit = 0; j < k; j++) {
                if (Bodies.replyStatus(b, j) == Status.PAGE_OK) {
                    int at = Bodies.getHitIndex(b, k, hit++);
                    if (crc.of(b, at + 4, Frame.PAGE_BYTES) != b.getInt(at)) {
                        throw new CorruptPageException(new Handle(donorPool, objects[picks[j]], indexes[picks[j]]), conn.name());
                    }
                }
            }
            for (int j = 0, hit = 0; j < k; j++) {
                int i = picks[j];
                int status = Bodies.replyStatus(b, j);
                if (status == Status.PAGE_OK) {
                    b.getBytes(Bodies.getHitIndex(b, k, hit++) + 4, dst.array(i), dst.offset(i), Frame.PAGE_BYTES);
                }
                result.accept(i, status);
            }
            return null;
        }));
    }

    static CompletableFuture<Void> flush(DonorWire conn, int donorPool, long[] objects, int[] indexes,
                                         int[] picks, int k, PageResult result) {
        return BusyRetry.send(conn, () -> sendFlush(conn, donorPool, objects, indexes, picks, k, result));
    }

    private static CompletableFuture<Void> sendFlush(DonorWire conn, int donorPool, long[] objects, int[] indexes,
            int[] picks, int k, PageResult result) {
        long id = conn.nextRequestId();
        ByteBuf frame = keyFrame(id, Opcode.FLUSH_PAGE, 0, donorPool, objects, indexes, picks, k);
        return conn.send(id, frame).thenAccept(r -> DonorReply.withBody(r, b -> {
            checkStatusVector(conn, b, k);
            for (int j = 0; j < k; j++) {
                result.accept(picks[j], Bodies.replyStatus(b, j));
            }
            return null;
        }));
    }

    /** Removes every page of an object; completes with how many there were. */
    static CompletableFuture<Long> flushObject(DonorWire conn, int donorPool, long object) {
        return BusyRetry.send(conn, () -> sendFlushObject(conn, donorPool, object));
    }

    private static CompletableFuture<Long> sendFlushObject(DonorWire conn, int donorPool, long object) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.flushObjectBodyBytes(1));
        FrameWriter.vector(frame, Opcode.FLUSH_OBJECT, 0, id, donorPool, 1);
        FrameWriter.objectEntry(frame, object);
        return conn.send(id, frame).thenApply(r -> decode(conn, r, Bodies::flushObjectReplyRemoved));
    }

    static CompletableFuture<Integer> newPool(DonorWire conn, PoolSpec spec) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.NEW_POOL_BYTES);
        FrameWriter.newPool(frame, id, spec);
        return conn.send(id, frame).thenApply(r -> decode(conn, r, Bodies::newPoolReplyId));
    }

    static CompletableFuture<Long> destroyPool(DonorWire conn, int donorPool) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.DESTROY_POOL_BYTES);
        FrameWriter.destroyPool(frame, id, donorPool);
        return conn.send(id, frame).thenApply(r -> decode(conn, r, Bodies::destroyPoolReplyRemoved));
    }

    /** The donor's counters, by name (the names of its /admin/stats). */
    static CompletableFuture<java.util.Map<String, Long>> stats(DonorWire conn) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES);
        FrameWriter.stats(frame, id);
        return conn.send(id, frame).thenApply(r -> decode(conn, r, Bodies::statsReply));
    }

    /** Completes with the round trip in nanoseconds. */
    static CompletableFuture<Long> ping(DonorWire conn) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + 8);
        long t0 = System.nanoTime();
        FrameWriter.ping(frame, id, t0);
        return conn.send(id, frame).thenApply(r -> {
            r.body().release();
            return System.nanoTime() - t0;
        });
    }

    /**
     * A PING with FLAG_FENCE: from its reply on, no older connection of this client may change its private pools
     * on that donor (see docs/protocol.md, PING).
     */
    static CompletableFuture<Void> fence(DonorWire conn) {
        long id = conn.nextRequestId();
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + 8);
        FrameWriter.ping(frame, id, id, Frame.FLAG_FENCE);
        return conn.send(id, frame).thenAccept(r -> r.body().release());
    }

    @FunctionalInterface
    private interface ReplyDecoder<T> {
        T decode(ByteBuf body) throws ProtocolException;
    }

    /** Decodes a reply body with the protocol's decoder and releases it; a body that lies is the donor's fault. */
    private static <T> T decode(DonorWire conn, DonorReply reply, ReplyDecoder<T> decoder) {
        try {
            return decoder.decode(reply.body());
        } catch (ProtocolException e) {
            throw new ProtocolViolationException("reply from " + conn.name() + ": " + e.getMessage());
        } finally {
            reply.body().release();
        }
    }

    /** A GET or FLUSH_PAGE frame naming the handles {@code picks[0..k)}. */
    private static ByteBuf keyFrame(long id, int opcode, int flags, int donorPool, long[] objects, int[] indexes,
                                    int[] picks, int k) {
        ByteBuf frame = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.keyBodyBytes(k));
        FrameWriter.vector(frame, opcode, flags, id, donorPool, k);
        for (int j = 0; j < k; j++) {
            FrameWriter.keyEntry(frame, objects[picks[j]], indexes[picks[j]]);
        }
        return frame;
    }

    private static void checkStatusVector(DonorWire conn, ByteBuf b, int k) {
        checkStatusVectorPrefix(conn, b, k);
        if (b.readableBytes() != Frame.statusVectorBytes(k)) {
            throw new ProtocolViolationException("reply from " + conn.name() + " has " + b.readableBytes()
                + " bytes for " + k + " statuses");
        }
    }

    /** Checks the count and that the statuses are there; returns how many are OK. */
    private static int checkStatusVectorPrefix(DonorWire conn, ByteBuf b, int k) {
        if (b.readableBytes() < Frame.statusVectorBytes(k) || Bodies.replyCount(b) != k) {
            throw new ProtocolViolationException("reply from " + conn.name() + " does not carry " + k + " statuses");
        }
        int ok = 0;
        for (int j = 0; j < k; j++) {
            ok += Bodies.replyStatus(b, j) == 0 ? 1 : 0;
        }
        return ok;
    }
}
