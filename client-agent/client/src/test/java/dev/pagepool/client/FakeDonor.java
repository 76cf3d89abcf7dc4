package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A donor of the test's own, on a real loopback socket: it speaks the protocol with an in-memory page map, and the
 * test scripts it. A {@link Script} decides per request whether to answer now, answer with a status of the test's
 * choosing, or hold the reply until the test releases it; so a test chooses the order replies arrive in.
 */
public final class FakeDonor implements AutoCloseable {
    /**
     * What to do with one request: serve it now; HOLD it (neither applied nor answered until released, as a donor
     * that has not read it yet); or apply it now and DELAY_REPLY until released (the reply is slow on the way);
     * or serve it but CORRUPT every page of a GET reply after its CRC32C was computed (a page damaged in the
     * donor's memory or on the way), which the client must never return.
     */
    public enum Action { SERVE, HOLD, DELAY_REPLY, CORRUPT }

    @FunctionalInterface
    public interface Script {
        Action on(FrameHeader header, ByteBuf body);
    }

    private final Vertx vertx;
    private final NetServer server;
    private final String name;
    private final Map<String, byte[]> pages = new ConcurrentHashMap<>();
    private final Map<String, Long> versions = new ConcurrentHashMap<>();
    /** Statuses the client gave, per handed-back page, in order. */
    private final List<Integer> handbackAnswers = new CopyOnWriteArrayList<>();
    private final AtomicInteger nextPool = new AtomicInteger(1);
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
    /** Connections whose HELLO asked for the client's calls only: no frame of the donor's own goes there. */
    private final java.util.Set<NetSocket> callsOnly = ConcurrentHashMap.newKeySet();
    /** Connections in the order they came, and the fence: writes from those before it are refused (FENCED). */
    private final Map<NetSocket, Long> sequenceOf = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sequences = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger fencedWrites = new java.util.concurrent.atomic.AtomicInteger();
    private volatile long fencedBefore;
    /** This fake's id in its HELLO replies, as a donor process has one. */
    private final java.util.UUID id = java.util.UUID.randomUUID();
    private final Map<Integer, Integer> callsOnlyRequestsByOpcode = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> requestsByOpcode = new ConcurrentHashMap<>();
    private volatile Script script = (h, b) -> Action.SERVE;
    /** Whole-frame status for an opcode, instead of serving it (BUSY, INTERNAL, NO_SUCH_POOL...), or absent. */
    private final Map<Integer, Integer> frameStatus = new ConcurrentHashMap<>();
    /** Page status for every page of PUT frames, instead of storing (PAGE_REJECTED...), or absent. */
    private volatile Integer putPageStatus;
    private final PageChecksum crc = new PageChecksum();
    private volatile boolean closed;

    public FakeDonor(Vertx vertx, String name) throws Exception {
        this.vertx = vertx;
        this.name = name;
        this.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
        server.connectHandler(this::accept);
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The id this fake proves in its HELLO replies. */
    public java.util.UUID id() {
        return id;
    }

    public InetSocketAddress address() {
        return InetSocketAddress.createUnresolved("127.0.0.1", server.actualPort());
    }

    public void script(Script s) {
        this.script = s;
    }

    public void frameStatus(int opcode, Integer status) {
        if (status == null) {
            frameStatus.remove(opcode);
        } else {
            frameStatus.put(opcode, status);
        }
    }

    public void putPageStatus(Integer status) {
        this.putPageStatus = status;
    }

    /** Sends every held reply, in the order the requests came; held requests are applied now. */
    public void releaseHeld() {
        List<Runnable> now = new ArrayList<>(held);
        held.removeAll(now);
        now.forEach(Runnable::run);
    }

    /** As {@link #releaseHeld}, newest first: the order a donor reading two connections may apply them in. */
    public void releaseHeldNewestFirst() {
        List<Runnable> now = new ArrayList<>(held);
        held.removeAll(now);
        java.util.Collections.reverse(now);
        now.forEach(Runnable::run);
    }

    /**
     * A HANDBACK of one page as this donor holds it now (data and version), to be sent by {@link #send} later:
     * the frame a donor under pressure composes and that reaches the client after whatever happened meanwhile.
     */
    public ByteBuf handbackFrame(int pool, long object, int index) {
        ByteBuf out = handbackFrameIfHeld(pool, object, index);
        if (out == null) {
            throw new IllegalStateException("no page " + key(pool, object, index) + " to hand back");
        }
        return out;
    }

    /**
     * As {@link #handbackFrame}, or null when the page is not held (any more): requests of the client may be under
     * way on the event loops while a test composes, so a page seen by {@link #holds} can be gone a moment later.
     */
    public ByteBuf handbackFrameIfHeld(int pool, long object, int index) {
        String key = key(pool, object, index);
        byte[] data;
        long version;
        synchronized (pages) {
            data = pages.get(key);
            version = versions.getOrDefault(key, 0L);
        }
        if (data == null) {
            return null;
        }
        ByteBuf out = Unpooled.buffer();
        FrameWriter.handback(out, 1_000_000 + handbackAnswers.size(), pool, 1);
        FrameWriter.putEntry(out, object, index, crc.of(data, 0, Frame.PAGE_BYTES), version, data, 0);
        return out;
    }

    /** Sends a frame of this donor's own on every connection that takes them (as a donor would, on one of them). */
    public void send(ByteBuf frame) {
        for (NetSocket socket : sockets) {
            if (!callsOnly.contains(socket)) {
                socket.write(Buffer.buffer(frame.copy()));
            }
        }
    }

    /** Requests of {@code opcode} that came on calls-only connections (a caller thread's own). */
    public int callsOnlyRequests(int opcode) {
        return callsOnlyRequestsByOpcode.getOrDefault(opcode, 0);
    }

    /** Inside a {@link Script}: whether the request came on a calls-only connection. */
    public static boolean onCallsOnly() {
        return CURRENT_CALLS_ONLY.get();
    }

    private static final ThreadLocal<Boolean> CURRENT_CALLS_ONLY = ThreadLocal.withInitial(() -> false);

    public List<Integer> handbackAnswers() {
        return handbackAnswers;
    }

    public int heldCount() {
        return held.size();
    }

    public int requests(int opcode) {
        return requestsByOpcode.getOrDefault(opcode, 0);
    }

    public boolean holds(int pool, long object, int index) {
        return pages.containsKey(key(pool, object, index));
    }

    public byte[] page(int pool, long object, int index) {
        return pages.get(key(pool, object, index));
    }

    /**
     * Holds {@code data} with {@code version} as page {@code (pool, object, index)}, whatever the client put: what
     * a donor keeps of a copy the client forgot (its flush failed), with a version that matches a newer write by
     * chance.
     */
    public void plant(int pool, long object, int index, byte[] data, long version) {
        synchronized (pages) {
            pages.put(key(pool, object, index), data.clone());
            versions.put(key(pool, object, index), version);
        }
    }

    /** Forgets every page and pool, as a restarted donor would; pool ids start again from {@code firstPoolId}. */
    public void restart(int firstPoolId) {
        pages.clear();
        nextPool.set(firstPoolId);
        sockets.forEach(NetSocket::close);
    }

    public void dropConnections() {
        sockets.forEach(NetSocket::close);
    }

    private boolean fenced(NetSocket socket, int opcode) {
        boolean write = opcode == Opcode.PUT || opcode == Opcode.FLUSH_PAGE || opcode == Opcode.FLUSH_OBJECT
            || opcode == Opcode.DESTROY_POOL;
        return write && sequenceOf.getOrDefault(socket, 0L) < fencedBefore;
    }

    /** Writes this donor refused because the client had fenced their connection. */
    public int fencedWrites() {
        return fencedWrites.get();
    }

    private void accept(NetSocket socket) {
        sockets.add(socket);
        sequenceOf.put(socket, sequences.incrementAndGet());
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, Unpooled::buffer, new FrameDecoder.Listener() {
            @Override
            public void onFrame(FrameHeader header, ByteBuf body) {
                if (header.isResponse()) {
                    if (header.opcode() == Opcode.HANDBACK) {
                        for (int i = 0; i < Bodies.replyCount(body); i++) {
                            handbackAnswers.add(Bodies.replyStatus(body, i));
                        }
                    }
                    body.release();
                    return;
                }
                requestsByOpcode.merge(header.opcode(), 1, Integer::sum);
                if (header.opcode() == Opcode.HELLO && (Bodies.helloFlags(body) & Frame.HELLO_CALLS_ONLY) != 0) {
                    callsOnly.add(socket);
                }
                boolean lane = callsOnly.contains(socket);
                if (lane) {
                    callsOnlyRequestsByOpcode.merge(header.opcode(), 1, Integer::sum);
                }
                CURRENT_CALLS_ONLY.set(lane);
                Action action;
                try {
                    action = script.on(header, body);
                } finally {
                    CURRENT_CALLS_ONLY.set(false);
                }
                if (action == Action.HOLD) {
                    held.add(() -> {
                        ByteBuf reply = answer(socket, header, body);
                        body.release();
                        socket.write(Buffer.buffer(reply));
                    });
                    return;
                }
                ByteBuf reply = answer(socket, header, body);
                body.release();
                if (action == Action.CORRUPT && header.opcode() == Opcode.GET) {
                    corruptHits(reply);
                }
                Runnable send = () -> socket.write(Buffer.buffer(reply));
                if (action == Action.DELAY_REPLY) {
                    held.add(send);
                } else {
                    send.run();
                }
            }

            @Override
            public void onRejected(FrameHeader header, ProtocolException error) {
                socket.close();
            }

            @Override
            public void onFramingLost(ProtocolException error) {
                socket.close();
            }
        });
        socket.handler(buffer -> decoder.feed(buffer.getByteBuf()));
        socket.closeHandler(v -> {
            sockets.remove(socket);
            callsOnly.remove(socket);
        });
    }

    private ByteBuf answer(NetSocket socket, FrameHeader h, ByteBuf body) {
        ByteBuf out = Unpooled.buffer();
        if (fenced(socket, h.opcode())) {
            // As a donor does: a write on a connection older than the client's last fence changes nothing.
            FrameWriter.error(out, h.opcode(), h.requestId(), Status.FENCED, "fenced by a newer connection");
            fencedWrites.incrementAndGet();
            return out;
        }
        if (h.opcode() == Opcode.PING && h.hasFlag(Frame.FLAG_FENCE)) {
            fencedBefore = Math.max(fencedBefore, sequenceOf.getOrDefault(socket, 0L));
        }
        Integer status = frameStatus.get(h.opcode());
        if (status != null && h.opcode() != Opcode.HELLO && h.opcode() != Opcode.AUTH) {
            FrameWriter.error(out, h.opcode(), h.requestId(), status, "scripted by the test");
            return out;
        }
        switch (h.opcode()) {
            case Opcode.HELLO -> {
                // The version-2 handshake with the empty token: the donor proves itself, then takes AUTH on trust.
                byte[] donorNonce = HandshakeProof.newNonce();
                byte[] proof = HandshakeProof.of("").donorProof(Bodies.helloClientId(body), id, Bodies.helloNonce(body), donorNonce);
                FrameWriter.helloReply(out, h.requestId(), Frame.MAX_PAGES_PER_FRAME, Frame.MAX_BODY_BYTES, donorNonce, proof, name,
                    id);
            }
            case Opcode.AUTH -> FrameWriter.authReply(out, h.requestId());
            case Opcode.NEW_POOL -> FrameWriter.newPoolReply(out, h.requestId(), nextPool.getAndIncrement());
            case Opcode.DESTROY_POOL -> {
                int pool = Bodies.destroyPoolId(body);
                long removed = pages.keySet().stream().filter(k -> k.startsWith(pool + "/")).count();
                pages.keySet().removeIf(k -> k.startsWith(pool + "/"));
                FrameWriter.destroyPoolReply(out, h.requestId(), removed);
            }
            case Opcode.PUT -> {
                int pool = Bodies.pool(body);
                int n = Bodies.count(body);
                FrameWriter.statusVectorReply(out, Opcode.PUT, h.requestId(), n);
                for (int i = 0; i < n; i++) {
                    String key = key(pool, Bodies.putObject(body, i), Bodies.putIndex(body, i));
                    Integer forced = putPageStatus;
                    if (forced != null) {
                        pages.remove(key); // tmem: a refused put removes the older version
                        out.writeByte(forced);
                        continue;
                    }
                    byte[] data = new byte[Frame.PAGE_BYTES];
                    body.getBytes(Bodies.putDataIndex(body, i), data);
                    synchronized (pages) { // a hand-back composed meanwhile sees data and version together
                        pages.put(key, data);
                        versions.put(key, Bodies.putVersion(body, i));
                    }
                    out.writeByte(Status.PAGE_OK);
                }
                FrameWriter.patchBodyLength(out, 0);
            }
            case Opcode.GET -> {
                int pool = Bodies.pool(body);
                int n = Bodies.count(body);
                FrameWriter.statusVectorReply(out, Opcode.GET, h.requestId(), n);
                List<byte[]> hits = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String key = key(pool, Bodies.keyObject(body, i), Bodies.keyIndex(body, i));
                    byte[] data = h.hasFlag(Frame.FLAG_EXCLUSIVE) ? pages.remove(key) : pages.get(key);
                    out.writeByte(data == null ? Status.PAGE_MISS : Status.PAGE_OK);
                    if (data != null) {
                        hits.add(data);
                    }
                }
                for (byte[] data : hits) {
                    out.writeInt(crc.of(data, 0, Frame.PAGE_BYTES));
                    out.writeBytes(data);
                }
                FrameWriter.patchBodyLength(out, 0);
            }
            case Opcode.FLUSH_PAGE -> {
                int pool = Bodies.pool(body);
                int n = Bodies.count(body);
                FrameWriter.statusVectorReply(out, Opcode.FLUSH_PAGE, h.requestId(), n);
                for (int i = 0; i < n; i++) {
                    boolean had = pages.remove(key(pool, Bodies.keyObject(body, i), Bodies.keyIndex(body, i))) != null;
                    out.writeByte(had ? Status.PAGE_OK : Status.PAGE_MISS);
                }
                FrameWriter.patchBodyLength(out, 0);
            }
            case Opcode.FLUSH_OBJECT -> {
                int pool = Bodies.pool(body);
                String prefix = pool + "/" + Bodies.flushObject(body, 0) + "/";
                int removed = (int) pages.keySet().stream().filter(k -> k.startsWith(prefix)).count();
                pages.keySet().removeIf(k -> k.startsWith(prefix));
                FrameWriter.flushObjectReply(out, h.requestId(), new int[] {removed}, 1);
            }
            case Opcode.PING -> FrameWriter.pong(out, h.requestId(), body);
            case Opcode.STATS -> FrameWriter.statsReply(out, h.requestId(), new String[] {"capacity_bytes", "used_bytes"},
                new long[] {1L << 30, (long) pages.size() * Frame.PAGE_BYTES});
            default -> FrameWriter.error(out, h.opcode(), h.requestId(), Status.UNKNOWN_OPCODE, "not scripted");
        }
        return out;
    }

    /** Flips one bit of each page of a GET reply, leaving its CRC32C as it was: the page no longer matches it. */
    private static void corruptHits(ByteBuf reply) {
        if (reply.getUnsignedShort(Frame.STATUS_OFFSET) != Status.OK) {
            return; // a whole-frame status scripted by the test: no page to damage
        }
        ByteBuf body = reply.slice(Frame.HEADER_BYTES, reply.writerIndex() - Frame.HEADER_BYTES);
        int count = Bodies.replyCount(body);
        for (int j = 0, hit = 0; j < count; j++) {
            if (Bodies.replyStatus(body, j) == Status.PAGE_OK) {
                int at = Bodies.getHitIndex(body, count, hit++) + 4; // past the CRC32C: the first data byte
                body.setByte(at, body.getByte(at) ^ 1);
            }
        }
    }

    private static String key(int pool, long object, int index) {
        return pool + "/" + object + "/" + index;
    }

    /**
     * Closes its port, then its connections, as a killed donor process usually does: the kernel closes a process's
     * files in the order of their numbers, and the listening socket, opened at start, usually has the lowest.
     * Closing again does nothing.
     */
    @Override
    public void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        sockets.forEach(NetSocket::close);
    }
}
