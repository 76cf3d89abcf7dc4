package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A hand-driven NBD client over a plain socket, for what real clients never send: malformed options and
 * requests, pipelines without reading, single bytes at a time.
 */
final class RawNbdClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
    }

    record SimpleReply(int error, long cookie) {
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int fragment;

    RawNbdClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(new FragmentingStream(socket.getOutputStream()));
    }

    /** From now on, every write goes out in pieces of at most {@code bytes}, each flushed on its own. */
    RawNbdClient fragment(int bytes) {
        fragment = bytes;
        return this;
    }

    /** Reads the greeting, sends the client flags. */
    RawNbdClient greet(int clientFlags) throws IOException {
        assertEquals(Nbd.NBDMAGIC, in.readLong());
        assertEquals(Nbd.IHAVEOPT, in.readLong());
        assertEquals(Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES, in.readUnsignedShort());
        out.writeInt(clientFlags);
        out.flush();
        return this;
    }

    RawNbdClient greet() throws IOException {
        return greet(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE | Nbd.NBD_FLAG_C_NO_ZEROES);
    }

    void option(int option, byte[] data) throws IOException {
        optionHeader(Nbd.IHAVEOPT, option, data.length);
        out.write(data);
        out.flush();
    }

    void optionHeader(long magic, int option, long length) throws IOException {
        out.writeLong(magic);
        out.writeInt(option);
        out.writeInt((int) length);
        out.flush();
    }

    OptionReply optionReply() throws IOException {
        assertEquals(Nbd.NBD_REP_MAGIC, in.readLong());
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    static byte[] goData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int info : infos) {
            b.putShort((short) info);
        }
        return b.array();
    }

    /** NBD_OPT_INFO or NBD_OPT_GO; returns every reply up to and including the final one. */
    List<OptionReply> infoOrGo(int option, String name, int... infos) throws IOException {
        option(option, goData(name, infos));
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = optionReply();
            replies.add(r);
            if (r.type() != Nbd.NBD_REP_INFO) {
                return replies;
            }
        }
    }

    /** GO on the pagepool export asking for block sizes; fails unless acknowledged. */
    RawNbdClient go() throws IOException {
        List<OptionReply> replies = infoOrGo(Nbd.NBD_OPT_GO, "pagepool", Nbd.NBD_INFO_BLOCK_SIZE);
        assertEquals(Nbd.NBD_REP_ACK, replies.get(replies.size() - 1).type());
        return this;
    }

    void request(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        requestWithMagic(Nbd.NBD_REQUEST_MAGIC, flags, type, cookie, offset, length);
        if (payload != null) {
            out.write(payload);
        }
        out.flush();
    }

    void requestWithMagic(int magic, int flags, int type, long cookie, long offset, long length) throws IOException {
        out.writeInt(magic);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    SimpleReply reply() throws IOException {
        assertEquals(Nbd.NBD_SIMPLE_REPLY_MAGIC, in.readInt());
        return new SimpleReply(in.readInt(), in.readLong());
    }

    byte[] readBytes(int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    void readFully(byte[] b) throws IOException {
        in.readFully(b);
    }

    /** Sends a READ and returns its data; fails on an error reply. */
    byte[] read(long offset, int length) throws IOException {
        request(0, Nbd.NBD_CMD_READ, 7, offset, length, null);
        SimpleReply r = reply();
        assertEquals(0, r.error(), "read error");
        assertEquals(7, r.cookie());
        return readBytes(length);
    }

    void write(long offset, byte[] data) throws IOException {
        request(0, Nbd.NBD_CMD_WRITE, 8, offset, data.length, data);
        SimpleReply r = reply();
        assertEquals(0, r.error(), "write error");
        assertEquals(8, r.cookie());
    }

    /** True if the server closed the connection: end of stream (or reset) within the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    void disconnect() throws IOException {
        request(0, Nbd.NBD_CMD_DISC, 0, 0, 0, null);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private final class FragmentingStream extends OutputStream {
        private final OutputStream target;

        FragmentingStream(OutputStream target) {
            this.target = new java.io.BufferedOutputStream(target, 1 << 16);
        }

        @Override
        public void write(int b) throws IOException {
            target.write(b);
            if (fragment > 0) {
                pieceDone();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (fragment <= 0) {
                target.write(b, off, len);
                return;
            }
            for (int at = 0; at < len; at += fragment) {
                target.write(b, off + at, Math.min(fragment, len - at));
                pieceDone();
            }
        }

        private void pieceDone() throws IOException {
            target.flush();
            Thread.yield();
        }

        @Override
        public void flush() throws IOException {
            target.flush();
        }
    }
}
