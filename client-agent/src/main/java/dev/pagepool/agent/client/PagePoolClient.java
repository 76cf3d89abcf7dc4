package dev.pagepool.agent.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Handle;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java client of a pagepool cluster: tmem's put, get and flush on pools spread over donors.
 *
 * <p>Two ways in. The vector calls ({@link #putBatch}, {@link #getBatch}) take many pages at once and send
 * one frame per donor per 256 pages: the fast path, which allocates nothing per page. The single-page calls
 * ({@link #put}, {@link #get}) are for callers that have one page at a time; concurrent calls are coalesced
 * by a {@link RequestCoalescer} into vectored frames, since the frontswap review's lesson holds on a network
 * even more than in a hypervisor: a round trip per page wastes the wire.
 *
 * <p>Every page carries a CRC32C end to end: computed here on put, checked by the donor before storing,
 * recomputed by the donor on get and checked here again. A page that fails is an error, never data.
 * Thread-safe.
 */
public final class PagePoolClient implements AutoCloseable {
    private static final ThreadLocal<PageChecksum> CHECKSUM = ThreadLocal.withInitial(PageChecksum::new);
    private static final long RECONNECT_MIN_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100);
    private static final long RECONNECT_MAX_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final ClientConfig config;
    private final Vertx vertx;
    private final boolean ownsVertx;
    private final DonorConnection[][] connections;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final PagePlacement placement;
    private final RequestCoalescer coalescer;
    /** Shared pools joined so far: a new connection must present their UUIDs again before using them. */
    private final List<PoolSpec> joinedShared = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final long[][] nextReconnectNanos;
    private final long[][] reconnectBackoffNanos;

    private PagePoolClient(ClientConfig config, Vertx vertx, boolean ownsVertx) {
        this.config = config;
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        List<InetSocketAddress> nodes = config.nodes();
        this.connections = new DonorConnection[nodes.size()][config.connectionsPerNode()];
        this.placement = new PagePlacement(nodes.size());
        this.nextReconnectNanos = new long[nodes.size()][config.connectionsPerNode()];
        this.reconnectBackoffNanos = new long[nodes.size()][config.connectionsPerNode()];
        try {
            for (int d = 0; d < nodes.size(); d++) {
                for (int c = 0; c < config.connectionsPerNode(); c++) {
                    connections[d][c] = DonorConnection.open(vertx, nodes.get(d), config);
                }
            }
        } catch (RuntimeException e) {
            closeConnections();
            if (ownsVertx) {
                vertx.close();
            }
            throw e;
        }
        this.coalescer = new RequestCoalescer(this);
    }

    /** Connects to every donor of the config (blocking, bounded by the connect timeout). */
    public static PagePoolClient connect(ClientConfig config) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors()))
            .setPreferNativeTransport(false));
        return new PagePoolClient(config, vertx, true);
    }

    public static PagePoolClient connect(ClientConfig config, Vertx vertx) {
        return new PagePoolClient(config, vertx, false);
    }

    public int donorCount() {
        return connections.length;
    }

    public ClientConfig config() {
        return config;
    }

    /** The name each donor gave in its HELLO reply. */
    public String donorName(int donor) {
        return connection(donor, 0).donorName();
    }

    /**
     * Creates the pool on every donor. For a shared pool this joins the existing pool with the spec's UUID,
     * and presents the UUID on every connection, as the donors require.
     */
    public PoolRef newPool(PoolSpec spec) {
        int[] ids = new int[connections.length];
        for (int d = 0; d < connections.length; d++) {
            int connectionsToAsk = spec.shared() ? connections[d].length : 1;
            for (int c = 0; c < connectionsToAsk; c++) {
                ids[d] = newPoolOn(connection(d, c), spec);
            }
        }
        if (spec.shared()) {
            joinedShared.add(spec);
        }
        return new PoolRef(spec, ids);
    }

    private static int newPoolOn(DonorConnection conn, PoolSpec spec) {
        long id = conn.nextRequestId();
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.NEW_POOL_BYTES);
        FrameWriter.newPool(frame, id, spec);
        return conn.await(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r, b -> b.getInt(b.readerIndex()))));
    }

    /** Destroys the pool on every donor; returns the pages removed. */
    public long destroyPool(PoolRef pool) {
        long removed = 0;
        for (int d = 0; d < connections.length; d++) {
            DonorConnection conn = connection(d, 0);
            long id = conn.nextRequestId();
            ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.DESTROY_POOL_BYTES);
            FrameWriter.destroyPool(frame, id, pool.idOn(d));
            removed += conn.await(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r,
                b -> b.getLong(b.readerIndex()))));
        }
        return removed;
    }

    // ---------------------------------------------------------------- vectors

    /** Puts {@code n} pages, page i at {@code pages[i * 4096]}; a status per page. */
    public PageStatus[] putBatch(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return DonorConnection.await(putBatchAsync(pool, objects, indexes, pages, n), config.requestTimeout().toMillis());
    }

    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return putBatchAsync(pool, objects, indexes, PageSlots.contiguous(pages), n);
    }

    CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, PageSlots pages, int n) {
        PageStatus[] result = new PageStatus[n];
        return forEachDonorFrame(objects, indexes, n, (donor, picks, k) -> {
            DonorConnection conn = pick(donor);
            long id = conn.nextRequestId();
            ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.putBodyBytes(k));
            FrameWriter.vector(frame, Opcode.PUT, 0, id, pool.idOn(donor), k);
            PageChecksum crc = CHECKSUM.get();
            for (int j = 0; j < k; j++) {
                int i = picks[j];
                byte[] page = pages.array(i);
                int at = pages.offset(i);
                FrameWriter.putEntry(frame, objects[i], indexes[i], crc.of(page, at, Frame.PAGE_BYTES), page, at);
            }
            return conn.send(id, frame).thenAccept(r -> DonorConnection.withBody(r, b -> {
                checkStatusVector(conn, b, k);
                for (int j = 0; j < k; j++) {
                    result[picks[j]] = PageStatus.of(Bodies.replyStatus(b, j));
                }
                return null;
            }));
        }).thenApply(v -> result);
    }

    /** Gets {@code n} pages into {@code dst[i * 4096]}; a status per page (OK filled, MISS untouched). */
    public PageStatus[] getBatch(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive, byte[] dst) {
        return DonorConnection.await(getBatchAsync(pool, objects, indexes, n, exclusive, dst), config.requestTimeout().toMillis());
    }

    public CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n,
                                                         boolean exclusive, byte[] dst) {
        return getBatchAsync(pool, objects, indexes, n, exclusive, PageSlots.contiguous(dst));
    }

    CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive,
                                                  PageSlots dst) {
        PageStatus[] result = new PageStatus[n];
        return forEachDonorFrame(objects, indexes, n, (donor, picks, k) -> {
            DonorConnection conn = pick(donor);
            long id = conn.nextRequestId();
            ByteBuf frame = keyFrame(id, Opcode.GET, exclusive ? Frame.FLAG_EXCLUSIVE : 0, pool.idOn(donor), objects,
                indexes, picks, k);
            return conn.send(id, frame).thenAccept(r -> DonorConnection.withBody(r, b -> {
                int hits = checkStatusVectorPrefix(conn, b, k);
                if (b.readableBytes() != Frame.getReplyBytes(k, hits)) {
                    throw new ProtocolViolationException("GET reply from " + conn.name() + " has " + b.readableBytes()
                        + " bytes for " + k + " pages and " + hits + " hits");
                }
                // Every hit is checked before any is copied out: a frame with a damaged page hands over nothing.
                PageChecksum crc = CHECKSUM.get();
                for (int j = 0, hit = 0; j < k; j++) {
                    if (Bodies.replyStatus(b, j) == Status.PAGE_OK) {
                        int at = Bodies.getHitIndex(b, k, hit++);
                        if (crc.of(b, at + 4, Frame.PAGE_BYTES) != b.getInt(at)) {
                            throw new CorruptPageException(
                                new Handle(pool.idOn(donor), objects[picks[j]], indexes[picks[j]]), conn.name());
                        }
                    }
                }
                for (int j = 0, hit = 0; j < k; j++) {
                    int i = picks[j];
                    PageStatus status = PageStatus.of(Bodies.replyStatus(b, j));
                    result[i] = status;
                    if (status == PageStatus.OK) {
                        b.getBytes(Bodies.getHitIndex(b, k, hit++) + 4, dst.array(i), dst.offset(i), Frame.PAGE_BYTES);
                    }
                }
                return null;
            }));
        }).thenApply(v -> result);
    }

    /** Removes pages; OK for each page that was there, MISS otherwise. */
    public PageStatus[] flushPages(PoolRef pool, long[] objects, int[] indexes, int n) {
        PageStatus[] result = new PageStatus[n];
        DonorConnection.await(forEachDonorFrame(objects, indexes, n, (donor, picks, k) -> {
            DonorConnection conn = pick(donor);
            long id = conn.nextRequestId();
            ByteBuf frame = keyFrame(id, Opcode.FLUSH_PAGE, 0, pool.idOn(donor), objects, indexes, picks, k);
            return conn.send(id, frame).thenAccept(r -> DonorConnection.withBody(r, b -> {
                checkStatusVector(conn, b, k);
                for (int j = 0; j < k; j++) {
                    result[picks[j]] = PageStatus.of(Bodies.replyStatus(b, j));
                }
                return null;
            }));
        }), config.requestTimeout().toMillis());
        return result;
    }

    public boolean flushPage(PoolRef pool, long object, int index) {
        return flushPages(pool, new long[] {object}, new int[] {index}, 1)[0] == PageStatus.OK;
    }

    /** Removes every page of the object on every donor; returns how many there were. */
    public long flushObject(PoolRef pool, long object) {
        long removed = 0;
        for (int d = 0; d < connections.length; d++) {
            DonorConnection conn = connection(d, 0);
            long id = conn.nextRequestId();
            ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.flushObjectBodyBytes(1));
            FrameWriter.vector(frame, Opcode.FLUSH_OBJECT, 0, id, pool.idOn(d), 1);
            FrameWriter.objectEntry(frame, object);
            removed += conn.await(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r,
                b -> b.getUnsignedInt(b.readerIndex() + Frame.STATUS_VECTOR_PREFIX_BYTES))));
        }
        return removed;
    }

    // ---------------------------------------------------------------- single pages, coalesced

    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page) {
        return coalescer.put(pool, object, index, page);
    }

    public PageStatus put(PoolRef pool, long object, int index, byte[] page) {
        return DonorConnection.await(putAsync(pool, object, index, page), config.requestTimeout().toMillis());
    }

    /** Fills {@code dst[0..4096)} on OK. */
    public CompletableFuture<PageStatus> getAsync(PoolRef pool, long object, int index, boolean exclusive, byte[] dst) {
        return coalescer.get(pool, object, index, exclusive, dst);
    }

    public PageStatus get(PoolRef pool, long object, int index, boolean exclusive, byte[] dst) {
        return DonorConnection.await(getAsync(pool, object, index, exclusive, dst), config.requestTimeout().toMillis());
    }

    // ---------------------------------------------------------------- admin

    /** The donor's counters, by name (the same names as its /admin/stats). */
    public Map<String, Long> stats(int donor) {
        DonorConnection conn = connection(donor, 0);
        long id = conn.nextRequestId();
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES);
        FrameWriter.stats(frame, id);
        return conn.await(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r, b -> {
            Map<String, Long> m = new LinkedHashMap<>();
            int count = b.readUnsignedShort();
            for (int i = 0; i < count; i++) {
                int len = b.readUnsignedByte();
                String name = b.readCharSequence(len, StandardCharsets.US_ASCII).toString();
                m.put(name, b.readLong());
            }
            return m;
        })));
    }

    /** Round-trip time to a donor, in nanoseconds. */
    public long ping(int donor) {
        DonorConnection conn = connection(donor, 0);
        long id = conn.nextRequestId();
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + 8);
        long t0 = System.nanoTime();
        FrameWriter.ping(frame, id, t0);
        conn.await(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r, b -> null)));
        return System.nanoTime() - t0;
    }

    @Override
    public void close() {
        coalescer.close();
        closeConnections();
        if (ownsVertx) {
            vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS)
                .exceptionally(e -> null).join();
        }
    }

    // ---------------------------------------------------------------- internals

    @FunctionalInterface
    interface FrameSender {
        CompletableFuture<Void> send(int donor, int[] picks, int k);
    }

    /**
     * Splits n handles by donor and into frames of at most 256 entries, calls {@code sender} for each, and
     * completes when every frame is answered (or fails with the first failure).
     */
    CompletableFuture<Void> forEachDonorFrame(long[] objects, int[] indexes, int n, FrameSender sender) {
        int donors = connections.length;
        List<CompletableFuture<Void>> frames = new ArrayList<>();
        if (donors == 1) {
            for (int start = 0; start < n; start += Frame.MAX_PAGES_PER_FRAME) {
                int k = Math.min(Frame.MAX_PAGES_PER_FRAME, n - start);
                int[] picks = new int[k];
                for (int j = 0; j < k; j++) {
                    picks[j] = start + j;
                }
                frames.add(sender.send(0, picks, k));
            }
        } else {
            int[] donorOf = new int[n];
            int[] perDonor = new int[donors];
            for (int i = 0; i < n; i++) {
                donorOf[i] = placement.donorOf(objects[i], indexes[i]);
                perDonor[donorOf[i]]++;
            }
            for (int d = 0; d < donors; d++) {
                if (perDonor[d] == 0) {
                    continue;
                }
                int[] picks = new int[Math.min(Frame.MAX_PAGES_PER_FRAME, perDonor[d])];
                int k = 0;
                for (int i = 0; i < n; i++) {
                    if (donorOf[i] == d) {
                        picks[k++] = i;
                        if (k == picks.length) {
                            frames.add(sender.send(d, picks, k));
                            perDonor[d] -= k;
                            picks = new int[Math.max(1, Math.min(Frame.MAX_PAGES_PER_FRAME, perDonor[d]))];
                            k = 0;
                        }
                    }
                }
                if (k > 0) {
                    frames.add(sender.send(d, picks, k));
                }
            }
        }
        return CompletableFuture.allOf(frames.toArray(new CompletableFuture<?>[0]));
    }

    /** A GET or FLUSH_PAGE frame naming the handles {@code picks[0..k)}. */
    private static ByteBuf keyFrame(long id, int opcode, int flags, int donorPool, long[] objects, int[] indexes,
                                    int[] picks, int k) {
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + Frame.keyBodyBytes(k));
        FrameWriter.vector(frame, opcode, flags, id, donorPool, k);
        for (int j = 0; j < k; j++) {
            FrameWriter.keyEntry(frame, objects[picks[j]], indexes[picks[j]]);
        }
        return frame;
    }

    DonorConnection pick(int donor) {
        int slots = connections[donor].length;
        return connection(donor, slots == 1 ? 0 : Math.floorMod(roundRobin.getAndIncrement(), slots));
    }

    /**
     * The open connection in a slot, reconnecting first when the donor closed it (idle timeout, restart,
     * network blip). Attempts back off from {@link #RECONNECT_MIN_NANOS} to {@link #RECONNECT_MAX_NANOS}; while
     * waiting, calls fail at once with {@link DonorUnavailableException} rather than queueing. A new connection
     * presents the UUIDs of the shared pools joined so far, as the donor requires per connection; private
     * pools need nothing, since they belong to the client id and survive within the donor's lease.
     */
    private DonorConnection connection(int donor, int slot) {
        DonorConnection conn = connections[donor][slot];
        if (conn.isOpen()) {
            return conn;
        }
        synchronized (connections[donor]) {
            conn = connections[donor][slot];
            if (conn.isOpen()) {
                return conn;
            }
            long now = System.nanoTime();
            if (now - nextReconnectNanos[donor][slot] < 0) {
                throw new DonorUnavailableException("donor " + conn.name() + " is unreachable; next reconnect attempt in "
                    + (nextReconnectNanos[donor][slot] - now) / 1_000_000 + " ms");
            }
            try {
                DonorConnection fresh = DonorConnection.open(vertx, config.nodes().get(donor), config);
                for (PoolSpec shared : joinedShared) {
                    newPoolOn(fresh, shared);
                }
                connections[donor][slot] = fresh;
                reconnectBackoffNanos[donor][slot] = 0;
                return fresh;
            } catch (PagePoolException e) {
                long backoff = Math.min(RECONNECT_MAX_NANOS, Math.max(RECONNECT_MIN_NANOS, reconnectBackoffNanos[donor][slot] * 2));
                reconnectBackoffNanos[donor][slot] = backoff;
                nextReconnectNanos[donor][slot] = now + backoff;
                throw e;
            }
        }
    }

    private static void checkStatusVector(DonorConnection conn, ByteBuf b, int k) {
        checkStatusVectorPrefix(conn, b, k);
        if (b.readableBytes() != Frame.statusVectorBytes(k)) {
            throw new ProtocolViolationException("reply from " + conn.name() + " has " + b.readableBytes()
                + " bytes for " + k + " statuses");
        }
    }

    /** Checks the count and that the statuses are there; returns how many are OK. */
    private static int checkStatusVectorPrefix(DonorConnection conn, ByteBuf b, int k) {
        if (b.readableBytes() < Frame.statusVectorBytes(k) || Bodies.replyCount(b) != k) {
            throw new ProtocolViolationException("reply from " + conn.name() + " does not carry " + k + " statuses");
        }
        int ok = 0;
        for (int j = 0; j < k; j++) {
            ok += Bodies.replyStatus(b, j) == 0 ? 1 : 0;
        }
        return ok;
    }

    private void closeConnections() {
        for (DonorConnection[] forDonor : connections) {
            for (DonorConnection c : forDonor) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
