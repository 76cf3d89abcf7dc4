package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
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
final class FakeDonor implements AutoCloseable {
    /** What to do with one request. */
    enum Action { SERVE, HOLD }

    @FunctionalInterface
    interface Script {
        Action on(FrameHeader header, ByteBuf body);
    }

    private final Vertx vertx;
    private final NetServer server;
    private final String name;
    private final Map<String, byte[]> pages = new ConcurrentHashMap<>();
    private final AtomicInteger nextPool = new AtomicInteger(1);
    private final List<Runnable> held = new CopyOnWriteArrayList<>();
    private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
    private final Map<Integer, Integer> requestsByOpcode = new ConcurrentHashMap<>();
    private volatile Script script = (h, b) -> Action.SERVE;
    /** Whole-frame status for an opcode, instead of serving it (BUSY, INTERNAL, NO_SUCH_POOL...), or absent. */
    private final Map<Integer, Integer> frameStatus = new ConcurrentHashMap<>();
    /** Page status for every page of PUT frames, instead of storing (PAGE_REJECTED...), or absent. */
    private volatile Integer putPageStatus;
    private final PageChecksum crc = new PageChecksum();

    FakeDonor(Vertx vertx, String name) throws Exception {
        this.vertx = vertx;
        this.name = name;
        this.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
        server.connectHandler(this::accept);
        server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    InetSocketAddress address() {
        return InetSocketAddress.createUnresolved("127.0.0.1", server.actualPort());
    }

    void script(Script s) {
        this.script = s;
    }

    void frameStatus(int opcode, Integer status) {
        if (status == null) {
            frameStatus.remove(opcode);
        } else {
            frameStatus.put(opcode, status);
        }
    }

    void putPageStatus(Integer status) {
        this.putPageStatus = status;
    }

    /** Sends every held reply, in the order the requests came. */
    void releaseHeld() {
        List<Runnable> now = new ArrayList<>(held);
        held.removeAll(now);
        now.forEach(Runnable::run);
    }

    int heldCount() {
        return held.size();
    }

    int requests(int opcode) {
        return requestsByOpcode.getOrDefault(opcode, 0);
    }

    boolean holds(int pool, long object, int index) {
        return pages.containsKey(key(pool, object, index));
    }

    byte[] page(int pool, long object, int index) {
        return pages.get(key(pool, object, index));
    }

    /** Forgets every page and pool, as a restarted donor would; pool ids start again from {@code firstPoolId}. */
    void restart(int firstPoolId) {
        pages.clear();
        nextPool.set(firstPoolId);
        sockets.forEach(NetSocket::close);
    }

    void dropConnections() {
        sockets.forEach(NetSocket::close);
    }

    private void accept(NetSocket socket) {
        sockets.add(socket);
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, Unpooled::buffer, new FrameDecoder.Listener() {
            @Override
            public void onFrame(FrameHeader header, ByteBuf body) {
                requestsByOpcode.merge(header.opcode(), 1, Integer::sum);
                Action action = script.on(header, body);
                ByteBuf reply = answer(header, body);
                body.release();
                Runnable send = () -> socket.write(Buffer.buffer(reply));
                if (action == Action.HOLD) {
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
        socket.closeHandler(v -> sockets.remove(socket));
    }

    private ByteBuf answer(FrameHeader h, ByteBuf body) {
        ByteBuf out = Unpooled.buffer();
        Integer status = frameStatus.get(h.opcode());
        if (status != null && h.opcode() != Opcode.HELLO) {
            FrameWriter.error(out, h.opcode(), h.requestId(), status, "scripted by the test");
            return out;
        }
        switch (h.opcode()) {
            case Opcode.HELLO -> FrameWriter.helloReply(out, h.requestId(), Frame.MAX_PAGES_PER_FRAME, Frame.MAX_BODY_BYTES, name);
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
                    pages.put(key, data);
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

    private static String key(int pool, long object, int index) {
        return pool + "/" + object + "/" + index;
    }

    @Override
    public void close() throws Exception {
        sockets.forEach(NetSocket::close);
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
