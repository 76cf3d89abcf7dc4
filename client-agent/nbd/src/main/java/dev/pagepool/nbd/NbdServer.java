package dev.pagepool.nbd;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.NetSocketInternal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Serves one {@link BlockDevice} as one NBD export over TCP or a Unix socket, so that the kernel's nbd client (or
 * qemu, nbdcopy, fio) can use pooled cluster memory as a block device, e.g. for swap. A Unix socket is reachable by
 * its owner and root only ({@link OwnerOnlySocket}); it needs Vert.x's native transport.
 *
 * <p>Fixed newstyle handshake, simple replies, no TLS. Every connection shares the device, the block locks
 * and the buffer reserve, which is why the export can advertise NBD_FLAG_CAN_MULTI_CONN: a flush on any
 * connection is {@link BlockDevice#flush()}, which covers writes completed on all of them.
 */
public final class NbdServer implements AutoCloseable {
    public static final String DEFAULT_EXPORT = "pagepool";
    /** Unit of the reserve: a 4 KiB request takes one slab, so small slabs waste little; 32 blocks each. */
    static final int SLAB_BYTES = 128 << 10;
    /**
     * One connection's whole window ({@link Nbd#MAX_INFLIGHT} requests) of up to 128 KiB each, the kernel's usual
     * swap I/O, in flight at once: 8 MiB, a slab per request. It caps the advertised payload near 8 MiB, above what
     * the kernel sends by default (max_sectors_kb, 1280 KiB or 4 MiB); larger requests or more connections wait
     * for slabs. It sits in the heap of an agent on a host short of memory: raise it for several connections.
     */
    public static final long DEFAULT_RESERVE_BYTES = (long) Nbd.MAX_INFLIGHT * SLAB_BYTES;
    private static final long BIND_TIMEOUT_SECONDS = 30;

    private final Vertx vertx;
    private final SocketAddress address;
    private final NbdExport export;
    private final NbdBufferPool pool;
    private final NbdBlockIo io;
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private NetServer server;
    private OwnerOnlySocket socketFile;
    private int port = -1;
    private NbdRequestObserver observer = NbdRequestObserver.NONE;
    private Consumer<Path> beforePublish = path -> { };

    /**
     * @param reserveBytes bytes of request buffers allocated up front; bounds memory for all connections
     *                     together and caps the advertised maximum payload (at most 32 MiB)
     */
    public NbdServer(Vertx vertx, BlockDevice device, String exportName, String host, int port, long reserveBytes) {
        this(vertx, device, exportName, SocketAddress.inetSocketAddress(port, host), reserveBytes);
    }

    /**
     * @param address a host and port (port 0: the system chooses), or a Unix socket's path
     *                ({@link SocketAddress#domainSocketAddress}), created mode 0600 with its directory if missing
     */
    public NbdServer(Vertx vertx, BlockDevice device, String exportName, SocketAddress address, long reserveBytes) {
        if (exportName == null || exportName.isEmpty() || exportName.length() > Nbd.MAX_STRING_BYTES) {
            throw new IllegalArgumentException("export name must be 1.." + Nbd.MAX_STRING_BYTES + " characters");
        }
        this.vertx = vertx;
        this.address = Objects.requireNonNull(address, "address");
        this.pool = new NbdBufferPool(reserveBytes, SLAB_BYTES);
        this.export = new NbdExport(exportName, device, device.blocks() * BlockDevice.BLOCK_BYTES,
            maxPayload(pool));
        this.io = new NbdBlockIo(device, new BlockLocks(), SLAB_BYTES);
    }

    /** The default export name and reserve. */
    public static NbdServer create(Vertx vertx, BlockDevice device, String host, int port) {
        return new NbdServer(vertx, device, DEFAULT_EXPORT, host, port, DEFAULT_RESERVE_BYTES);
    }

    /**
     * The largest payload whose request fits the reserve in the worst case: a range starting just past a
     * block boundary covers one block more than its length, and a read-modify-write needs one scratch slab.
     */
    private static int maxPayload(NbdBufferPool pool) {
        long fits = (long) (pool.capacity() - 1) * pool.slabBytes() - BlockDevice.BLOCK_BYTES;
        long max = Math.min(Nbd.MAX_PAYLOAD_BYTES, fits);
        return (int) (max - max % BlockDevice.BLOCK_BYTES);
    }

    /** Who hears of every executed request (metrics); set before {@link #start()}. */
    public NbdServer observe(NbdRequestObserver requestObserver) {
        if (server != null) {
            throw new IllegalStateException("set the observer before the server starts");
        }
        this.observer = Objects.requireNonNull(requestObserver, "requestObserver");
        return this;
    }

    /**
     * On a Unix socket, {@code warmUp} runs with the socket's private path once it is bound and before it is
     * published under its name: it is then the export's only client, and can drive requests through every layer
     * before a kernel that swaps depends on them. If it throws, the server does not start.
     */
    public NbdServer beforePublish(Consumer<Path> warmUp) {
        if (server != null) {
            throw new IllegalStateException("set the warm-up before the server starts");
        }
        this.beforePublish = Objects.requireNonNull(warmUp, "warmUp");
        return this;
    }

    /**
     * Binds and returns the port listened on (the one chosen by the system if 0 was asked; 0 on a Unix socket,
     * which has none). Blocks until bound.
     */
    public int start() {
        NetServerOptions options = new NetServerOptions()
            .setTcpNoDelay(true)
            .setSendBufferSize(1 << 20);
        // No receive buffer size: Vert.x would read every chunk into a fixed buffer of that size, and at 1 MiB the
        // pooled allocator builds and frees a whole chunk per read. The kernel autotunes the window; Netty sizes reads.
        NetServer s = vertx.createNetServer(options).connectHandler(socket -> {
            NbdConnection connection = new NbdConnection((NetSocketInternal) socket, export, io, pool,
                observer, connections::remove);
            connections.add(connection);
            connection.start();
        });
        SocketAddress bindAt = address;
        if (address.isDomainSocket()) {
            if (!vertx.isNativeTransportEnabled()) {
                // Vert.x's NIO transport has no Unix sockets and says only IllegalArgumentException: say why.
                throw new IllegalStateException("cannot listen for NBD on " + address + ": a Unix socket needs Netty's "
                    + "epoll transport, which did not load: " + vertx.unavailableNativeTransportCause());
            }
            socketFile = OwnerOnlySocket.prepare(Path.of(address.path()));
            bindAt = SocketAddress.domainSocketAddress(socketFile.bindPath().toString());
        }
        try {
            server = s.listen(bindAt).toCompletionStage().toCompletableFuture().get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (socketFile != null) {
                socketFile.delete();
            }
            throw new IllegalStateException("cannot listen for NBD on " + address + ": " + e.getMessage(), e);
        }
        if (socketFile != null) {
            try {
                beforePublish.accept(socketFile.bindPath());
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            socketFile.publish();
            port = 0;
        } else {
            port = server.actualPort();
        }
        return port;
    }

    /** NBD connections open now: a client that has the export open (a kernel that swaps on it, say). */
    public int connectionCount() {
        return connections.size();
    }

    /** The bound port, or -1 before {@link #start()}; 0 on a Unix socket. */
    public int port() {
        return port;
    }

    public String exportName() {
        return export.name();
    }

    public long sizeBytes() {
        return export.sizeBytes();
    }

    /** Largest READ or WRITE payload accepted, as advertised in NBD_INFO_BLOCK_SIZE. */
    public int maxPayloadBytes() {
        return export.maxPayloadBytes();
    }

    /** Bytes every connection has read and not parsed yet; with the reserve, the whole of what clients make it hold. */
    long unparsedBytes() {
        return connections.stream().map(NbdConnection::unparsedBytes).mapToLong(CompletableFuture::join).sum();
    }

    /** Stops listening and closes every connection; requests in flight finish against the device unanswered. */
    @Override
    public void close() {
        NetServer s = server;
        server = null;
        if (s != null) {
            try {
                s.close().toCompletionStage().toCompletableFuture().get(BIND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closing anyway
            }
        }
        List<NbdConnection> open = new ArrayList<>(connections);
        open.forEach(NbdConnection::close);
        if (socketFile != null) {
            socketFile.delete();
        }
    }
}
