package dev.pagepool.node.net;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * A blocking client of the data port written against the protocol module alone: the handshake done by hand,
 * frames sent and read one at a time, so a test can stop anywhere in between or send what no client would.
 */
public final class DataPortClient implements AutoCloseable {
    /** A frame as received. */
    public record Received(FrameHeader header, ByteBuf body) {
        public String message() {
            return header.status() == Status.OK ? "" : Bodies.errorMessage(body);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final PageChecksum checksum = new PageChecksum();
    private long nextId = 1;

    public DataPortClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** A connection that has done the handshake, straight after connecting: within the donor's hello timeout. */
    public static DataPortClient authenticated(int port, String token) throws IOException {
        DataPortClient c = new DataPortClient(port);
        try {
            c.authenticate(java.util.concurrent.ThreadLocalRandom.current().nextLong(), token);
            return c;
        } catch (IOException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    public Socket socket() {
        return socket;
    }

    /**
     * The whole handshake, proving the owner key that {@link #keyOf} gives the client id (so test clients of one id
     * share their private pools, as one real client would); fails the test if the donor's proof or any reply is
     * wrong. Returns the donor's name.
     */
    public String authenticate(long clientId, String token) throws IOException {
        return authenticate(clientId, keyOf(clientId), token);
    }

    /** The handshake proving {@code ownerKey}, whatever the client id. */
    public String authenticate(long clientId, OwnerKey ownerKey, String token) throws IOException {
        return handshake(in, out, clientId, ownerKey, token, nextId++, nextId++, 0);
    }

    /** The owner key test clients prove for {@code clientId} unless told another. */
    public static OwnerKey keyOf(long clientId) {
        return new OwnerKey(clientId, ~clientId);
    }

    /** The v2 handshake over any blocking stream pair, for test clients of their own. */
    public static String handshake(DataInputStream in, OutputStream out, long clientId, String token, long helloId, long authId)
        throws IOException {
        return handshake(in, out, clientId, keyOf(clientId), token, helloId, authId, 0);
    }

    /** The handshake with HELLO flags ({@code Frame.HELLO_CALLS_ONLY}). */
    public static String handshake(DataInputStream in, OutputStream out, long clientId, String token, long helloId, long authId,
                                   int helloFlags) throws IOException {
        return handshake(in, out, clientId, keyOf(clientId), token, helloId, authId, helloFlags);
    }

    /** The handshake proving {@code ownerKey}, with HELLO flags. */
    public static String handshake(DataInputStream in, OutputStream out, long clientId, OwnerKey ownerKey, String token,
                                   long helloId, long authId, int helloFlags) throws IOException {
        HandshakeProof proof = HandshakeProof.of(token);
        byte[] clientNonce = HandshakeProof.newNonce();
        ByteBuf hello = Unpooled.buffer();
        FrameWriter.hello(hello, helloId, clientId, clientNonce, helloFlags);
        write(out, hello);
        Received r = read(in);
        expectOk(r, Opcode.HELLO);
        ByteBuf b = r.body();
        byte[] donorNonce = new byte[Frame.NONCE_BYTES];
        b.getBytes(Frame.HELLO_REPLY_NONCE_OFFSET, donorNonce);
        byte[] donorProof = new byte[Frame.PROOF_BYTES];
        b.getBytes(Frame.HELLO_REPLY_PROOF_OFFSET, donorProof);
        java.util.UUID donorId = Bodies.helloReplyDonorId(b);
        if (!HandshakeProof.matches(proof.donorProof(clientId, donorId, clientNonce, donorNonce), donorProof)) {
            throw new AssertionError("the donor's proof does not match the token");
        }
        ByteBuf auth = Unpooled.buffer();
        FrameWriter.auth(auth, authId, proof.clientProof(clientId, donorId, clientNonce, donorNonce), ownerKey);
        write(out, auth);
        expectOk(read(in), Opcode.AUTH);
        int nameLength = b.getUnsignedShort(Frame.HELLO_REPLY_NAME_LENGTH_OFFSET);
        return b.toString(Frame.HELLO_REPLY_FIXED_BYTES, nameLength, StandardCharsets.UTF_8);
    }

    public int newPool(boolean persistent) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        long id = nextId++;
        FrameWriter.newPool(buf, id, PoolSpec.privatePool(persistent));
        send(buf);
        Received r = next();
        expectOk(r, Opcode.NEW_POOL);
        return r.body().getInt(0);
    }

    /** A NEW_POOL whose reply the test inspects. */
    public Received tryNewPool(boolean persistent) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        FrameWriter.newPool(buf, nextId++, PoolSpec.privatePool(persistent));
        send(buf);
        return next();
    }

    /** A PUT of {@code count} copies of {@code page} at (object, first..first+count); returns the page statuses. */
    public int[] put(int pool, long object, int first, int count, byte[] page) throws IOException {
        send(putFrame(nextId++, pool, object, first, count, page));
        Received r = next();
        expectOk(r, Opcode.PUT);
        int[] statuses = new int[count];
        for (int i = 0; i < count; i++) {
            statuses[i] = Bodies.replyStatus(r.body(), i);
        }
        return statuses;
    }

    public ByteBuf putFrame(long id, int pool, long object, int first, int count, byte[] page) {
        ByteBuf buf = Unpooled.buffer(Frame.HEADER_BYTES + Frame.putBodyBytes(count));
        FrameWriter.vector(buf, Opcode.PUT, 0, id, pool, count);
        int crc = checksum.of(page, 0, Frame.PAGE_BYTES);
        for (int i = 0; i < count; i++) {
            FrameWriter.putEntry(buf, object, first + i, crc, 0, page, 0);
        }
        return buf;
    }

    /** A GET of (object, first..first+count), sent without waiting for its reply. */
    public void sendGet(int pool, long object, int first, int count) throws IOException {
        ByteBuf buf = Unpooled.buffer(Frame.HEADER_BYTES + Frame.keyBodyBytes(count));
        FrameWriter.vector(buf, Opcode.GET, 0, nextId++, pool, count);
        for (int i = 0; i < count; i++) {
            FrameWriter.keyEntry(buf, object, first + i);
        }
        send(buf);
    }

    /** Page statuses of a GET of (object, first..first+count). */
    public int[] get(int pool, long object, int first, int count) throws IOException {
        sendGet(pool, object, first, count);
        Received r = next();
        expectOk(r, Opcode.GET);
        int[] statuses = new int[count];
        for (int i = 0; i < count; i++) {
            statuses[i] = Bodies.replyStatus(r.body(), i);
        }
        return statuses;
    }

    public void ping() throws IOException {
        ping(0);
    }

    /** A PING with {@code flags} (0 or {@code FLAG_FENCE}), answered OK. */
    public void ping(int flags) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        FrameWriter.ping(buf, nextId++, 7, flags);
        send(buf);
        expectOk(next(), Opcode.PING);
    }

    /** Sends a whole request frame; returns its reply, for the test to inspect. */
    public Received call(ByteBuf frame) throws IOException {
        send(frame);
        return next();
    }

    /** A fresh request id for frames the test builds itself. */
    public long nextRequestId() {
        return nextId++;
    }

    /** A PUT like {@link #put}, whose reply the test inspects. */
    public Received tryPut(int pool, long object, int first, int count, byte[] page) throws IOException {
        send(putFrame(nextId++, pool, object, first, count, page));
        return next();
    }

    public void send(ByteBuf frame) throws IOException {
        write(out, frame);
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public Received next() throws IOException {
        return read(in);
    }

    /** True once the donor has closed the connection (end of stream or reset within the socket timeout). */
    public boolean closedByDonor() throws IOException {
        try {
            while (true) {
                read(in);
            }
        } catch (EOFException | SocketException e) {
            return true;
        }
    }

    private static void write(OutputStream out, ByteBuf buf) throws IOException {
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.write(bytes);
        out.flush();
    }

    private static Received read(DataInputStream in) throws IOException {
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

    public static void expectOk(Received r, int opcode) {
        if (r.header().status() != Status.OK || r.header().opcode() != opcode) {
            throw new AssertionError(Opcode.name(opcode) + " failed: " + Opcode.name(r.header().opcode()) + " "
                + Status.requestName(r.header().status()) + " " + r.message());
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
