package dev.pagepool.agent.probe;

import dev.pagepool.nbd.Nbd;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The least NBD client that drives an export as a block device user would: the fixed newstyle handshake,
 * {@code NBD_OPT_GO}, then WRITE, READ, FLUSH and DISC with simple replies, one request at a time, over a
 * blocking socket. It lets the demo check its export on a machine with no NBD client installed, and the agent
 * warm its own export up before it publishes it ({@link ExportWarmUp}); the protocol is {@code doc/proto.md} of
 * NetworkBlockDevice/nbd. Every answer is checked, and anything the server says that a client could not go on
 * from is an {@link IOException} naming it.
 */
public final class BlockingNbdClient implements AutoCloseable {
    private static final int TIMEOUT_MILLIS = 30_000;
    /** The fixed part of an NBD_INFO_EXPORT reply: type u16, size u64, transmission flags u16. */
    private static final int INFO_EXPORT_BYTES = 12;
    /** NBD_INFO_BLOCK_SIZE: type u16, minimum u32, preferred u32, maximum payload u32. */
    private static final int INFO_BLOCK_SIZE_BYTES = 14;
    /** Option reply data this client reads at most; anything longer is not an answer to what it asked. */
    private static final int MAX_OPTION_REPLY_BYTES = 64 * 1024;

    private final Closeable socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private long exportBytes = -1;
    private int transmissionFlags;
    private int maxPayload = -1;
    private long nextCookie = 1;

    private BlockingNbdClient(Closeable socket, InputStream in, OutputStream out) {
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        this.out = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
    }

    /** Connects over TCP, negotiates {@code export} with NBD_OPT_GO and is ready for requests. */
    public static BlockingNbdClient connect(String host, int port, String export) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
            return handshake(new BlockingNbdClient(socket, socket.getInputStream(), socket.getOutputStream()), export);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Connects to a Unix socket, negotiates {@code export} and is ready for requests. A channel has no read
     * timeout: whoever waits on this client bounds the wait and closes it, which ends a blocked read.
     */
    public static BlockingNbdClient connect(Path unixSocket, String export) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(unixSocket));
            return handshake(new BlockingNbdClient(channel, Channels.newInputStream(channel),
                Channels.newOutputStream(channel)), export);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static BlockingNbdClient handshake(BlockingNbdClient client, String export) throws IOException {
        client.handshake(export);
        return client;
    }

    public long exportBytes() {
        return exportBytes;
    }

    /** The largest READ or WRITE the server accepts. */
    public int maxPayload() {
        return maxPayload;
    }

    private void handshake(String export) throws IOException {
        expect(in.readLong() == Nbd.NBDMAGIC, "not an NBD server: no NBDMAGIC");
        expect(in.readLong() == Nbd.IHAVEOPT, "not a newstyle NBD server: no IHAVEOPT");
        int serverFlags = in.readUnsignedShort();
        expect((serverFlags & Nbd.NBD_FLAG_FIXED_NEWSTYLE) != 0, "the server does not speak fixed newstyle");
        boolean noZeroes = (serverFlags & Nbd.NBD_FLAG_NO_ZEROES) != 0;
        out.writeInt(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE | (noZeroes ? Nbd.NBD_FLAG_C_NO_ZEROES : 0));

        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(Nbd.IHAVEOPT);
        out.writeInt(Nbd.NBD_OPT_GO);
        out.writeInt(4 + name.length + 2 + 2);
        out.writeInt(name.length);
        out.write(name);
        out.writeShort(1); // one information request: the block sizes, so the maximum payload is known
        out.writeShort(Nbd.NBD_INFO_BLOCK_SIZE);
        out.flush();

        for (;;) {
            expect(in.readLong() == Nbd.NBD_REP_MAGIC, "bad option reply magic");
            expect(in.readInt() == Nbd.NBD_OPT_GO, "option reply to an option not sent");
            int type = in.readInt();
            int length = in.readInt();
            expect(length >= 0 && length <= MAX_OPTION_REPLY_BYTES, "option reply of " + Integer.toUnsignedString(length) + " bytes");
            byte[] data = new byte[length];
            in.readFully(data);
            if (type == Nbd.NBD_REP_ACK) {
                break;
            }
            if ((type & Nbd.NBD_REP_FLAG_ERROR) != 0) {
                throw new IOException("the server refused export '" + export + "': reply type 0x" + Integer.toHexString(type)
                    + " " + new String(data, StandardCharsets.UTF_8));
            }
            if (type == Nbd.NBD_REP_INFO && length >= 2) {
                info(data);
            }
        }
        expect(exportBytes >= 0, "NBD_OPT_GO acknowledged without NBD_INFO_EXPORT");
        if (maxPayload < 0) {
            maxPayload = 32 << 20; // the spec's default when the server states none
        }
    }

    private void info(byte[] data) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
        int info = Short.toUnsignedInt(b.getShort());
        if (info == Nbd.NBD_INFO_EXPORT) {
            expect(data.length == INFO_EXPORT_BYTES, "NBD_INFO_EXPORT of " + data.length + " bytes");
            exportBytes = b.getLong();
            transmissionFlags = Short.toUnsignedInt(b.getShort());
            expect(exportBytes >= 0, "negative export size");
        } else if (info == Nbd.NBD_INFO_BLOCK_SIZE) {
            expect(data.length == INFO_BLOCK_SIZE_BYTES, "NBD_INFO_BLOCK_SIZE of " + data.length + " bytes");
            b.getInt();
            b.getInt();
            maxPayload = b.getInt();
            expect(maxPayload > 0, "maximum payload " + Integer.toUnsignedString(maxPayload));
        }
    }

    /** Writes {@code data[offset..+length)} at {@code at}; one request. */
    public void write(long at, byte[] data, int offset, int length) throws IOException {
        checkRange(at, length);
        long cookie = request(Nbd.NBD_CMD_WRITE, at, length);
        out.write(data, offset, length);
        out.flush();
        reply(cookie, "WRITE of " + length + " bytes at " + at);
    }

    /** Reads {@code length} bytes at {@code at} into {@code into[offset..]}; one request. */
    public void read(long at, byte[] into, int offset, int length) throws IOException {
        checkRange(at, length);
        long cookie = request(Nbd.NBD_CMD_READ, at, length);
        out.flush();
        reply(cookie, "READ of " + length + " bytes at " + at);
        in.readFully(into, offset, length);
    }

    /** NBD_CMD_FLUSH: every write answered before it is durable as far as the export goes. */
    public void flush() throws IOException {
        expect((transmissionFlags & Nbd.NBD_FLAG_SEND_FLUSH) != 0, "the export does not take FLUSH");
        long cookie = request(Nbd.NBD_CMD_FLUSH, 0, 0);
        out.flush();
        reply(cookie, "FLUSH");
    }

    /** NBD_CMD_DISC, then the socket closes; the server answers nothing. */
    public void disconnect() throws IOException {
        request(Nbd.NBD_CMD_DISC, 0, 0);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private void checkRange(long at, int length) {
        if (length <= 0 || length > maxPayload || at < 0 || at + length > exportBytes) {
            throw new IllegalArgumentException(length + " bytes at " + at + " do not fit an export of " + exportBytes
                + " bytes in one request of at most " + maxPayload);
        }
    }

    private long request(int command, long at, int length) throws IOException {
        long cookie = nextCookie++;
        out.writeInt(Nbd.NBD_REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(command);
        out.writeLong(cookie);
        out.writeLong(at);
        out.writeInt(length);
        return cookie;
    }

    private void reply(long cookie, String what) throws IOException {
        expect(in.readInt() == Nbd.NBD_SIMPLE_REPLY_MAGIC, what + ": not a simple reply");
        int error = in.readInt();
        long echoed = in.readLong();
        expect(echoed == cookie, what + ": reply to cookie " + echoed + ", expected " + cookie);
        if (error != 0) {
            throw new IOException(what + " failed with NBD error " + error);
        }
    }

    private static void expect(boolean ok, String problem) throws IOException {
        if (!ok) {
            throw new IOException(problem);
        }
    }
}
