package dev.pagepool.e2e;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.Status;
import dev.pagepool.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A plain blocking socket to a donor's data port, for sending what no well-behaved client would: garbage,
 * lies about lengths, unknown opcodes. Replies are cut with the protocol's own decoder.
 */
final class RawConnection implements AutoCloseable {
    record Reply(FrameHeader header, byte[] body) {
    }

    private final Socket socket;
    private final Deque<Reply> replies = new ArrayDeque<>();
    private final FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, Unpooled::buffer, new FrameDecoder.Listener() {
        @Override
        public void onFrame(FrameHeader header, ByteBuf body) {
            byte[] b = new byte[body.readableBytes()];
            body.readBytes(b);
            body.release();
            replies.add(new Reply(header, b));
        }

        @Override
        public void onRejected(FrameHeader header, ProtocolException error) {
            throw new AssertionError("donor sent an unreadable reply: " + error.getMessage());
        }

        @Override
        public void onFramingLost(ProtocolException error) {
            throw new AssertionError("donor broke framing: " + error.getMessage());
        }
    });

    RawConnection(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(10_000);
        socket.setTcpNoDelay(true);
    }

    void send(ByteBuf frame) throws IOException {
        byte[] b = new byte[frame.readableBytes()];
        frame.readBytes(b);
        frame.release();
        send(b);
    }

    void send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    /** The next reply; fails if none arrives within the socket timeout. */
    Reply next() throws IOException {
        InputStream in = socket.getInputStream();
        byte[] chunk = new byte[64 * 1024];
        while (replies.isEmpty()) {
            int n = in.read(chunk);
            if (n < 0) {
                throw new IOException("donor closed the connection");
            }
            decoder.feed(Unpooled.wrappedBuffer(chunk, 0, n));
        }
        return replies.poll();
    }

    /**
     * The version-2 handshake as a client would do it (HELLO, check of the donor's proof, AUTH), for a raw
     * connection that then sends what no client would.
     */
    void authenticate(long clientId, String token) throws IOException {
        authenticate(clientId, null, token);
    }

    /**
     * The handshake proving the owner key {@code poolSecret} gives on this donor, as the client with that secret
     * would; null: a key of this connection's own (the client id's, so raw connections of one id share pools).
     */
    void authenticate(long clientId, dev.pagepool.client.PoolSecret poolSecret, String token) throws IOException {
        HandshakeProof proof = HandshakeProof.of(token);
        byte[] clientNonce = HandshakeProof.newNonce();
        ByteBuf hello = Unpooled.buffer();
        FrameWriter.hello(hello, 1, clientId, clientNonce);
        send(hello);
        Reply r = next();
        if (r.header().status() != Status.OK) {
            throw new IOException("HELLO refused: " + Status.requestName(r.header().status()));
        }
        byte[] donorNonce = java.util.Arrays.copyOfRange(r.body(), Frame.HELLO_REPLY_NONCE_OFFSET,
            Frame.HELLO_REPLY_NONCE_OFFSET + Frame.NONCE_BYTES);
        byte[] donorProof = java.util.Arrays.copyOfRange(r.body(), Frame.HELLO_REPLY_PROOF_OFFSET,
            Frame.HELLO_REPLY_PROOF_OFFSET + Frame.PROOF_BYTES);
        java.util.UUID donorId = dev.pagepool.protocol.Bodies.helloReplyDonorId(Unpooled.wrappedBuffer(r.body()));
        if (!HandshakeProof.matches(proof.donorProof(clientId, donorId, clientNonce, donorNonce), donorProof)) {
            throw new AssertionError("the donor's proof does not match the token");
        }
        ByteBuf auth = Unpooled.buffer();
        FrameWriter.auth(auth, 2, proof.clientProof(clientId, donorId, clientNonce, donorNonce), poolSecret == null
            ? new dev.pagepool.protocol.OwnerKey(clientId, ~clientId) : poolSecret.ownerKeyOn(donorId));
        send(auth);
        Reply ok = next();
        if (ok.header().status() != Status.OK) {
            throw new IOException("AUTH refused: " + Status.requestName(ok.header().status()));
        }
    }

    /** True when the donor has closed the connection (read returns end of stream within the timeout). */
    boolean closedByDonor() throws IOException {
        try {
            return socket.getInputStream().read() < 0;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
