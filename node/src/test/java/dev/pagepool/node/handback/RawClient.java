package dev.pagepool.node.handback;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A client of the data port written against the protocol module alone, over a blocking socket: what a test
 * needs to watch the donor hand pages back. Requests wait for their reply by id; HANDBACK requests that arrive
 * meanwhile are queued for the test to answer (or not).
 */
final class RawClient implements AutoCloseable {
    /** A frame as received: header and body bytes. */
    record Received(FrameHeader header, ByteBuf body) {
    }

    /** One page of a HANDBACK frame, its CRC already checked by {@link #nextHandback}. */
    record HandedBackPage(long object, int index, long version, byte[] data) {
    }

    /** A HANDBACK request from the donor. */
    record Handback(long requestId, int pool, HandedBackPage[] pages) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Deque<Handback> handbacks = new ArrayDeque<>();
    private final PageChecksum checksum = new PageChecksum();
    private long nextId = 1;
    private long clientId;

    RawClient(int port) throws IOException {
        this(port, 0);
    }

    /**
     * With a receive buffer of {@code receiveBufferBytes} (0: the system's), set before connecting so the window
     * the donor sees is that small: a client that stops reading then stops the donor's writes at once.
     */
    RawClient(int port, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The HELLO/AUTH handshake with the empty token of a loopback test donor. */
    void hello(long clientId) throws IOException {
        dev.pagepool.node.net.DataPortClient.handshake(in, out, clientId, "", nextId++, nextId++);
        this.clientId = clientId;
    }

    /** The handshake proving {@code ownerKey} rather than the one the client id gives test clients. */
    void hello(long clientId, dev.pagepool.protocol.OwnerKey ownerKey) throws IOException {
        dev.pagepool.node.net.DataPortClient.handshake(in, out, clientId, ownerKey, "", nextId++, nextId++, 0);
        this.clientId = clientId;
    }

    /** The handshake for a connection that carries this client's calls only: the donor sends it no HANDBACK. */
    void helloCallsOnly(long clientId) throws IOException {
        dev.pagepool.node.net.DataPortClient.handshake(in, out, clientId, "", nextId++, nextId++, Frame.HELLO_CALLS_ONLY);
        this.clientId = clientId;
    }

    /** The client id this connection said HELLO as: the owner of the private pools it makes. */
    long clientId() {
        return clientId;
    }

    int newPool(boolean persistent) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        long id = nextId++;
        FrameWriter.newPool(buf, id, persistent ? PoolSpec.privatePool(true) : PoolSpec.privatePool(false));
        Received r = call(buf, id, Opcode.NEW_POOL);
        expectOk(r);
        return r.body().getInt(0);
    }

    void destroyPool(int pool) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        long id = nextId++;
        FrameWriter.destroyPool(buf, id, pool);
        expectOk(call(buf, id, Opcode.DESTROY_POOL));
    }

    /** Puts pages[i] at (object, firstIndex + i), version 0; returns the page statuses. */
    int[] put(int pool, long object, int firstIndex, byte[][] pages) throws IOException {
        return put(pool, object, firstIndex, pages, new long[pages.length]);
    }

    /** Puts pages[i] at (object, firstIndex + i) with versions[i]; returns the page statuses. */
    int[] put(int pool, long object, int firstIndex, byte[][] pages, long[] versions) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        long id = nextId++;
        FrameWriter.vector(buf, Opcode.PUT, 0, id, pool, pages.length);
        for (int i = 0; i < pages.length; i++) {
            FrameWriter.putEntry(buf, object, firstIndex + i, checksum.of(pages[i], 0, Frame.PAGE_BYTES), versions[i],
                pages[i], 0);
        }
        Received r = call(buf, id, Opcode.PUT);
        expectOk(r);
        int[] statuses = new int[pages.length];
        for (int i = 0; i < pages.length; i++) {
            statuses[i] = Bodies.replyStatus(r.body(), i);
        }
        return statuses;
    }

    /** The page at the handle, checked against its CRC, or null on a miss. */
    byte[] get(int pool, long object, int index) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        long id = nextId++;
        FrameWriter.vector(buf, Opcode.GET, 0, id, pool, 1);
        FrameWriter.keyEntry(buf, object, index);
        Received r = call(buf, id, Opcode.GET);
        expectOk(r);
        if (Bodies.replyStatus(r.body(), 0) != Status.PAGE_OK) {
            return null;
        }
        int hit = Bodies.getHitIndex(r.body(), 1, 0);
        byte[] data = new byte[Frame.PAGE_BYTES];
        r.body().getBytes(hit + 4, data);
        if (checksum.of(data, 0, Frame.PAGE_BYTES) != r.body().getInt(hit)) {
            throw new AssertionError("GET reply with a bad CRC");
        }
        return data;
    }

    /** The next HANDBACK request (queued or read now), or null when none comes within {@code millis}. */
    Handback nextHandback(int millis) throws IOException {
        if (!handbacks.isEmpty()) {
            return handbacks.poll();
        }
        long deadline = System.currentTimeMillis() + millis;
        while (handbacks.isEmpty()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return null;
            }
            socket.setSoTimeout((int) Math.max(1, left));
            try {
                Received r = read();
                if (!r.header().isResponse()) {
                    queueRequest(r);
                }
            } catch (SocketTimeoutException e) {
                return null;
            } finally {
                socket.setSoTimeout(10_000);
            }
        }
        return handbacks.poll();
    }

    /** Answers a HANDBACK with one page status per page. */
    void answer(Handback handback, int... statuses) throws IOException {
        byte[] bytes = new byte[statuses.length];
        for (int i = 0; i < statuses.length; i++) {
            bytes[i] = (byte) statuses[i];
        }
        ByteBuf buf = Unpooled.buffer();
        FrameWriter.handbackReply(buf, handback.requestId(), bytes, bytes.length);
        write(buf);
    }

    /** Sends a reply the donor never asked for. */
    void answerUnknown(long requestId) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        FrameWriter.handbackReply(buf, requestId, new byte[] {Status.PAGE_OK}, 1);
        write(buf);
    }

    private Received call(ByteBuf request, long id, int opcode) throws IOException {
        write(request);
        for (;;) {
            Received r = read();
            if (!r.header().isResponse()) {
                queueRequest(r);
                continue;
            }
            if (r.header().requestId() != id || r.header().opcode() != opcode) {
                throw new AssertionError("unexpected reply " + r.header() + " while waiting for " + id);
            }
            return r;
        }
    }

    private void queueRequest(Received r) {
        if (r.header().opcode() != Opcode.HANDBACK) {
            throw new AssertionError("a donor sends no request but HANDBACK, got " + r.header());
        }
        ByteBuf body = r.body();
        try {
            Bodies.checkRequest(r.header(), body);
        } catch (Exception e) {
            throw new AssertionError("malformed HANDBACK: " + e.getMessage());
        }
        int count = Bodies.count(body);
        HandedBackPage[] pages = new HandedBackPage[count];
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[Frame.PAGE_BYTES];
            body.getBytes(Bodies.putDataIndex(body, i), data);
            if (checksum.of(data, 0, Frame.PAGE_BYTES) != Bodies.putCrc(body, i)) {
                throw new AssertionError("HANDBACK page " + i + " with a bad CRC");
            }
            pages[i] = new HandedBackPage(Bodies.putObject(body, i), Bodies.putIndex(body, i), Bodies.putVersion(body, i), data);
        }
        handbacks.add(new Handback(r.header().requestId(), Bodies.pool(body), pages));
    }

    private Received read() throws IOException {
        byte[] header = new byte[Frame.HEADER_BYTES];
        in.readFully(header);
        ByteBuf h = Unpooled.wrappedBuffer(header);
        if (h.getInt(Frame.MAGIC_OFFSET) != Frame.MAGIC) {
            throw new AssertionError("bad magic from the donor");
        }
        int length = h.getInt(Frame.BODY_LENGTH_OFFSET);
        byte[] body = new byte[length];
        in.readFully(body);
        return new Received(new FrameHeader(h.getUnsignedByte(Frame.OPCODE_OFFSET), h.getUnsignedShort(Frame.FLAGS_OFFSET),
            h.getLong(Frame.REQUEST_ID_OFFSET), length, h.getUnsignedShort(Frame.STATUS_OFFSET)), Unpooled.wrappedBuffer(body));
    }

    private void write(ByteBuf buf) throws IOException {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.write(bytes);
        out.flush();
    }

    private static void expectOk(Received r) {
        if (r.header().status() != Status.OK) {
            throw new AssertionError(Opcode.name(r.header().opcode()) + " failed: " + Status.requestName(r.header().status())
                + " " + Bodies.errorMessage(r.body()));
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
