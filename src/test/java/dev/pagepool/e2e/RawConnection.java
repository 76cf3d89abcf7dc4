package dev.pagepool.e2e;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameDecoder;
import dev.pagepool.protocol.FrameHeader;
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
