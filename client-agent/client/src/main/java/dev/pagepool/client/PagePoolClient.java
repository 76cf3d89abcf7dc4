package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Java client of a pagepool cluster: tmem's put, get and flush on pools spread over donors.
 *
 * <p>Two ways in. The vector calls ({@link #putBatch}, {@link #getBatch}) take many pages at once and send
 * one frame per donor per 256 pages. The single-page calls ({@link #put}, {@link #get}) are for callers that
 * have one page at a time; concurrent calls are coalesced by a {@link RequestCoalescer} into vectored frames,
 * since the frontswap review's lesson holds on a network even more than in a hypervisor.
 *
 * <p>Placement and durability. Extents of a pool are placed on donors by two random choices on free memory
 * ({@link TwoChoicePlacement}); a persistent pool keeps {@code replicas} copies on distinct donors and a put is
 * OK only when every copy is stored, REJECTED otherwise (copies that did store are flushed, so a rejected put
 * leaves nothing readable). A donor that fails a request, stops answering within the request timeout, or
 * leaves the Hazelcast cluster is taken out of service at once: reads go to a surviving replica, the
 * {@link ReReplicator} restores the replica count in the background, and the donor is readmitted only after
 * its old pools are wiped, so a donor that was frozen never serves pages rewritten elsewhere meanwhile. A page
 * whose every copy is gone is reported {@link PageStatus#LOST}, never returned as other data.
 *
 * <p>Every page carries a CRC32C end to end. Thread-safe.
 */
public final class PagePoolClient implements AutoCloseable {
    /** Donor indexes fit the bit masks placement uses. */
    static final int MAX_DONORS = 64;
    private static final Logger LOG = Logger.getLogger(PagePoolClient.class.getName());
    private static final long WATCH_PERIOD_MILLIS = 200;
    private static final long LOAD_POLL_MILLIS = 1000;

    private final ClientConfig config;
    private final Vertx vertx;
    private final boolean ownsVertx;
    private final DonorLink[] links = new DonorLink[MAX_DONORS];
    private volatile int linkCount;
    private final List<PoolRef> pools = new CopyOnWriteArrayList<>();
    private final RequestCoalescer coalescer;
    private final ClientCounters counters = new ClientCounters();
    private final ScheduledExecutorService watcher;
    private final ReReplicator reReplicator;
    private final HandbackTaker handbacks = new HandbackTaker(this);
    private final Object downLock = new Object();
    /**
     * Held while pools are created or destroyed and while a donor is readmitted: a pool made during a readmission
     * must exist on the readmitted donor too, and a pool destroyed meanwhile must not be created there again.
     */
    private final Object admission = new Object();
    private volatile boolean loadsFromCluster;
    private volatile boolean closed;

    private PagePoolClient(ClientConfig config, Vertx vertx, boolean ownsVertx) {
        this.config = config;
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        PagePoolException firstFailure = null;
        for (InetSocketAddress address : config.nodes()) {
            DonorLink link = addLink(address);
            try {
                link.open(vertx, config);
                link.markUp();
            } catch (DonorUnavailableException e) {
                firstFailure = firstFailure == null ? e : firstFailure;
                link.attemptFailed();
            } catch (RuntimeException e) {
                closeLinks();
                closeVertx();
                throw e; // a wrong token is not something a retry fixes
            }
        }
        if (upCount() == 0) {
            closeLinks();
            closeVertx();
            throw firstFailure;
        }
        this.coalescer = new RequestCoalescer(this);
        this.watcher = Executors.newSingleThreadScheduledExecutor(daemon("pagepool-donors"));
        this.reReplicator = new ReReplicator(this);
        watcher.scheduleWithFixedDelay(this::readmitDue, WATCH_PERIOD_MILLIS, WATCH_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        watcher.scheduleWithFixedDelay(this::pollLoads, 0, LOAD_POLL_MILLIS, TimeUnit.MILLISECONDS);
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

    /**
     * Adds a donor to follow (a member that joined the cluster); a donor already known keeps its index. With
     * {@code publishedFree} >= 0 that is its free memory, and from then on this client relies on {@link #reportFree}
     * for loads instead of asking donors itself.
     */
    public void addDonor(InetSocketAddress address, long publishedFree) {
        DonorLink link = find(addressKey(address));
        link = link != null ? link : addLink(address);
        if (publishedFree >= 0) {
            loadsFromCluster = true;
            link.reportFree(publishedFree);
        }
    }

    /**
     * The donor left the cluster or was declared dead: out of service at once, rather than at its first timeout.
     * Runs off the caller's thread (a membership listener must not wait on the client).
     */
    public void donorLeft(InetSocketAddress address) {
        DonorLink link = find(addressKey(address));
        if (link != null) {
            watcher.execute(() -> markDown(link, "left the cluster"));
        }
    }

    /** The free memory a donor published; placement prefers donors with more. */
    public void reportFree(InetSocketAddress address, long freeBytes) {
        DonorLink link = find(addressKey(address));
        if (link != null) {
            loadsFromCluster = true;
            link.reportFree(freeBytes);
        }
    }

    private static String addressKey(InetSocketAddress address) {
        return address.getHostString() + ":" + address.getPort();
    }

    /** Donors known, in service or not; indexes are stable for the client's lifetime. */
    public int donorCount() {
        return linkCount;
    }

    public boolean donorUp(int donor) {
        return links[donor].isUp();
    }

    public int upCount() {
        int n = 0;
        for (int d = 0; d < linkCount; d++) {
            n += links[d].isUp() ? 1 : 0;
        }
        return n;
    }

    public ClientConfig config() {
        return config;
    }

    /** The name each donor gave in its HELLO reply. */
    public String donorName(int donor) {
        return links[donor].name();
    }

    public ClientCounters counters() {
        return counters;
    }

    /**
     * Who takes the persistent pages donors give back under pressure or when draining; until one is set, donors
     * keep them (and keep rejecting puts).
     */
    public void onHandback(HandbackReceiver receiver) {
        handbacks.receiver(receiver);
    }

    /** The pool with id {@code id} on donor {@code donor}, or null. */
    PoolRef poolWithId(int donor, int id) {
        for (PoolRef pool : pools) {
            if (pool.idOn(donor) == id) {
                return pool;
            }
        }
        return null;
    }

    /** Extents of persistent pools with fewer copies than their pool wants. */
    public int underReplicatedExtents() {
        return reReplicator.underReplicated();
    }

    // ---------------------------------------------------------------- pools

    /**
     * Creates the pool on every donor in service: 2 replicas for a private persistent pool when 2 donors are up,
     * else 1.
     */
    public PoolRef newPool(PoolSpec spec) {
        return newPool(spec, spec.persistent() && !spec.shared() && upCount() >= 2 ? 2 : 1);
    }

    /**
     * Creates the pool with {@code replicas} copies of each page (1 for ephemeral pools). For a shared pool this
     * joins the existing pool with the spec's UUID, presenting it on every connection as the donors require.
     */
    public PoolRef newPool(PoolSpec spec, int replicas) {
        if (replicas < 1 || replicas > ExtentMap.MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be 1.." + ExtentMap.MAX_REPLICAS + ", got " + replicas);
        }
        if ((!spec.persistent() || spec.shared()) && replicas != 1) {
            throw new IllegalArgumentException("ephemeral and shared pools keep one copy");
        }
        PoolRef pool = new PoolRef(spec, replicas);
        synchronized (admission) {
            for (int d = 0; d < linkCount; d++) {
                DonorLink link = links[d];
                if (link.isUp()) {
                    try {
                        pool.setIdOn(d, createOn(link, spec));
                    } catch (DonorUnavailableException e) {
                        markDown(link, e.getMessage());
                    }
                }
            }
            pools.add(pool);
        }
        return pool;
    }

    private int createOn(DonorLink link, PoolSpec spec) {
        int id = PoolRef.NO_POOL;
        int connectionsToAsk = spec.shared() ? link.connectionCount() : 1;
        for (int c = 0; c < connectionsToAsk; c++) {
            id = join(FrameCalls.newPool(link.slot(c), spec));
        }
        return id;
    }

    /** Destroys the pool on every donor; returns the pages removed (each page counted once, not per copy). */
    public long destroyPool(PoolRef pool) {
        synchronized (admission) {
            return destroyAdmitted(pool);
        }
    }

    private long destroyAdmitted(PoolRef pool) {
        pools.remove(pool);
        long removed = 0;
        for (int d = 0; d < linkCount; d++) {
            int id = pool.idOn(d);
            if (id != PoolRef.NO_POOL && links[d].isUp()) {
                try {
                    removed += join(FrameCalls.destroyPool(connection(links[d]), id));
                } catch (DonorUnavailableException e) {
                    markDown(links[d], e.getMessage());
                }
            }
            pool.setIdOn(d, PoolRef.NO_POOL);
        }
        return removed / pool.replicas();
    }

    // ---------------------------------------------------------------- vectors

    /** Puts {@code n} pages, page i at {@code pages[i * 4096]}; a status per page. */
    public PageStatus[] putBatch(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return join(putBatchAsync(pool, objects, indexes, pages, n));
    }

    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return putBatchAsync(pool, objects, indexes, PageSlots.contiguous(pages), n);
    }

    /** Puts {@code n} pages from wherever {@code pages} says they are. */
    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, PageSlots pages, int n) {
        PageStatus[] result = new PageStatus[n];
        return new ReplicatedPut(this, pool, objects, indexes, pages, result).run(all(n), n, 0).thenApply(v -> result);
    }

    /** Gets {@code n} pages into {@code dst[i * 4096]}; a status per page (OK filled, MISS or LOST untouched). */
    public PageStatus[] getBatch(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive, byte[] dst) {
        return join(getBatchAsync(pool, objects, indexes, n, exclusive, dst));
    }

    public CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n,
                                                         boolean exclusive, byte[] dst) {
        return getBatchAsync(pool, objects, indexes, n, exclusive, PageSlots.contiguous(dst));
    }

    /** Gets {@code n} pages into wherever {@code dst} says. */
    public CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive,
                                                  PageSlots dst) {
        PageStatus[] result = new PageStatus[n];
        CompletableFuture<Void> got = new ReplicatedGet(this, pool, objects, indexes, dst, result, exclusive)
            .run(all(n), n, 0);
        if (!exclusive || pool.replicas() == 1) {
            return got.thenApply(v -> result);
        }
        // Get-and-flush of a replicated page: the copy read is flushed by the donor, the others here.
        return got.thenCompose(v -> {
            int hits = 0;
            int[] found = new int[n];
            for (int i = 0; i < n; i++) {
                if (result[i] == PageStatus.OK) {
                    found[hits++] = i;
                }
            }
            PageStatus[] flushed = new PageStatus[n];
            return new ReplicatedFlush(this, pool, objects, indexes, flushed).run(found, hits);
        }).thenApply(v -> result);
    }

    /** Removes pages from every copy; OK for each page that was there, MISS otherwise. */
    public PageStatus[] flushPages(PoolRef pool, long[] objects, int[] indexes, int n) {
        return join(flushPagesAsync(pool, objects, indexes, n));
    }

    public CompletableFuture<PageStatus[]> flushPagesAsync(PoolRef pool, long[] objects, int[] indexes, int n) {
        PageStatus[] result = new PageStatus[n];
        return new ReplicatedFlush(this, pool, objects, indexes, result).run(all(n), n).thenApply(v -> result);
    }

    public boolean flushPage(PoolRef pool, long object, int index) {
        return flushPages(pool, new long[] {object}, new int[] {index}, 1)[0] == PageStatus.OK;
    }

    /** Removes every page of the object on every donor; returns how many there were (each page once). */
    public long flushObject(PoolRef pool, long object) {
        pool.extents.bulkWrite();
        long removed = 0;
        for (int d = 0; d < linkCount; d++) {
            int id = pool.idOn(d);
            if (id != PoolRef.NO_POOL && links[d].isUp()) {
                try {
                    removed += join(FrameCalls.flushObject(connection(links[d]), id, object));
                } catch (DonorUnavailableException e) {
                    markDown(links[d], e.getMessage());
                }
            }
        }
        pool.extents.bulkWrite();
        return removed / pool.replicas();
    }

    // ---------------------------------------------------------------- single pages, coalesced

    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page) {
        return coalescer.put(pool, object, index, page, 0);
    }

    /** The page is {@code page[offset..offset + 4096)}. */
    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page, int offset) {
        return coalescer.put(pool, object, index, page, offset);
    }

    public PageStatus put(PoolRef pool, long object, int index, byte[] page) {
        return join(putAsync(pool, object, index, page));
    }

    /** Fills {@code dst[0..4096)} on OK. */
    public CompletableFuture<PageStatus> getAsync(PoolRef pool, long object, int index, boolean exclusive, byte[] dst) {
        return coalescer.get(pool, object, index, exclusive, dst, 0);
    }

    /** Fills {@code dst[offset..offset + 4096)} on OK. */
    public CompletableFuture<PageStatus> getAsync(PoolRef pool, long object, int index, boolean exclusive, byte[] dst,
                                                  int offset) {
        return coalescer.get(pool, object, index, exclusive, dst, offset);
    }

    public PageStatus get(PoolRef pool, long object, int index, boolean exclusive, byte[] dst) {
        return join(getAsync(pool, object, index, exclusive, dst));
    }

    // ---------------------------------------------------------------- admin

    /** The donor's counters, by name (the same names as its /admin/stats). */
    public Map<String, Long> stats(int donor) {
        DonorConnection conn = connection(links[donor]);
        long id = conn.nextRequestId();
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES);
        FrameWriter.stats(frame, id);
        return join(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r, b -> {
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
        DonorConnection conn = connection(links[donor]);
        long id = conn.nextRequestId();
        ByteBuf frame = DonorConnection.allocate(Frame.HEADER_BYTES + 8);
        long t0 = System.nanoTime();
        FrameWriter.ping(frame, id, t0);
        join(conn.send(id, frame).thenApply(r -> DonorConnection.withBody(r, b -> null)));
        return System.nanoTime() - t0;
    }

    @Override
    public void close() {
        closed = true;
        reReplicator.close();
        handbacks.close();
        watcher.shutdownNow();
        coalescer.close();
        closeLinks();
        closeVertx();
    }

    // ---------------------------------------------------------------- donors in and out of service

    DonorLink link(int donor) {
        return links[donor];
    }

    DonorLink[] links() {
        return links;
    }

    List<PoolRef> pools() {
        return pools;
    }

    /**
     * A connection to an UP donor for one request. A connection the donor closed while idle is opened again; if
     * the donor meanwhile lost this client's pools (it restarted), it is taken out of service instead.
     */
    DonorConnection connection(DonorLink link) {
        if (!link.isUp()) {
            throw new DonorUnavailableException("donor " + link.name() + " is out of service");
        }
        DonorConnection conn = link.pick();
        if (conn.isOpen()) {
            return conn;
        }
        for (int c = 0; c < link.connectionCount(); c++) {
            if (link.slot(c) == conn) {
                return reopen(link, c);
            }
        }
        return conn;
    }

    private DonorConnection reopen(DonorLink link, int slot) {
        DonorConnection fresh;
        try {
            fresh = link.reopen(slot, vertx, config);
            for (PoolRef pool : pools) {
                int id = pool.idOn(link.index);
                if (id == PoolRef.NO_POOL) {
                    continue;
                }
                if (pool.spec().shared()) {
                    join(FrameCalls.newPool(fresh, pool.spec()));
                } else if (!poolIntact(fresh, id)) {
                    throw new DonorUnavailableException("donor " + link.name() + " no longer has pool " + id
                        + " (restarted, or the lease ran out)");
                }
            }
            return fresh;
        } catch (PagePoolException e) {
            markDown(link, e.getMessage());
            throw e instanceof DonorUnavailableException ? e : new DonorUnavailableException(e.getMessage());
        }
    }

    /** Whether the donor still has the private pool: a one-page GET answers NO_SUCH_POOL if not. */
    private static boolean poolIntact(DonorConnection conn, int id) {
        try {
            join(FrameCalls.get(conn, id, false, new long[] {0}, new int[] {0},
                PageSlots.contiguous(new byte[Frame.PAGE_BYTES]), new int[] {0}, 1, (i, s) -> { }));
            return true;
        } catch (NoSuchPoolException e) {
            return false;
        }
    }

    /**
     * Takes a donor out of service: it failed a request, did not answer in time, or left the cluster. Its copies
     * are forgotten at once (reads go elsewhere; extents left without a copy are lost) and it comes back only
     * through {@link #readmit}.
     */
    void markDown(DonorLink link, String reason) {
        // One at a time, and callers wait for the drop to finish: a request that failed on the same donor must not
        // be placed again while the map still names it.
        synchronized (downLock) {
            markDownLocked(link, reason);
        }
    }

    private void markDownLocked(DonorLink link, String reason) {
        if (!link.markDown()) {
            return;
        }
        counters.donorDown();
        int lostExtents = 0;
        for (PoolRef pool : pools) {
            int lost = pool.extents.dropDonor(link.index);
            // An ephemeral page may vanish at any time: only persistent extents count as lost.
            lostExtents += pool.spec().persistent() ? lost : 0;
        }
        counters.extentsLost(lostExtents);
        LOG.log(Level.WARNING, "donor " + link.name() + " out of service: " + reason
            + (lostExtents > 0 ? "; " + lostExtents + " extents lost their last copy" : ""));
    }

    /** Failures that mean the donor, not the request, is the problem. */
    void failed(DonorLink link, Throwable error) {
        Throwable cause = unwrap(error);
        if (isDonorFailure(cause)) {
            markDown(link, cause.getMessage());
        }
    }

    static boolean isDonorFailure(Throwable cause) {
        return cause instanceof DonorUnavailableException || cause instanceof ProtocolViolationException;
    }

    private void readmitDue() {
        for (int d = 0; d < linkCount && !closed; d++) {
            DonorLink link = links[d];
            if (link.attemptDue()) {
                readmit(link);
            }
        }
    }

    /**
     * Brings a donor (back) into service. Whatever it holds of this client's pools is wiped first: if it was
     * frozen, its pages may be older than what was written elsewhere since; then the pools are created afresh.
     */
    private void readmit(DonorLink link) {
        synchronized (admission) {
            readmitAdmitted(link);
        }
    }

    private void readmitAdmitted(DonorLink link) {
        try {
            link.open(vertx, config);
            for (PoolRef pool : pools) {
                int old = pool.idOn(link.index);
                DonorConnection conn = link.slot(0);
                if (old != PoolRef.NO_POOL && !pool.spec().shared()) {
                    try {
                        join(FrameCalls.destroyPool(conn, old));
                    } catch (NoSuchPoolException gone) {
                        // restarted, or its lease ran out: nothing stale to wipe
                    }
                }
                pool.setIdOn(link.index, createOn(link, pool.spec()));
            }
            link.markUp();
            counters.donorReadmitted();
            LOG.info("donor " + link.name() + " in service");
        } catch (PagePoolException e) {
            link.closeConnections();
            link.attemptFailed();
        }
    }

    /** Asks donors their free memory, when this client has been placing extents (and so needs to know). */
    private void pollLoads() {
        boolean placing = false;
        for (int d = 0; d < linkCount; d++) {
            placing |= links[d].placedSinceReport() > 0;
        }
        if (loadsFromCluster || !placing) {
            return;
        }
        for (int d = 0; d < linkCount && !closed; d++) {
            DonorLink link = links[d];
            if (!link.isUp()) {
                continue;
            }
            try {
                Map<String, Long> s = stats(d);
                Long capacity = s.get("capacity_bytes");
                Long used = s.get("used_bytes");
                if (capacity != null && used != null) {
                    link.reportFree(capacity - used);
                }
            } catch (PagePoolException e) {
                failed(link, e);
            }
        }
    }

    private synchronized DonorLink addLink(InetSocketAddress address) {
        DonorLink existing = find(addressKey(address));
        if (existing != null) {
            return existing;
        }
        if (linkCount == MAX_DONORS) {
            throw new IllegalStateException("a client follows at most " + MAX_DONORS + " donors");
        }
        int index = linkCount;
        DonorLink link = new DonorLink(index, address, config.connectionsPerNode(),
            (conn, header, body) -> handbacks.onRequest(links[index], conn, header, body));
        links[linkCount] = link;
        linkCount++;
        return link;
    }

    private DonorLink find(String addressKey) {
        for (int d = 0; d < linkCount; d++) {
            if (links[d].addressKey().equals(addressKey)) {
                return links[d];
            }
        }
        return null;
    }

    private void closeLinks() {
        for (int d = 0; d < linkCount; d++) {
            links[d].closeConnections();
        }
    }

    private void closeVertx() {
        if (ownsVertx) {
            vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS)
                .exceptionally(e -> null).join();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static int[] all(int n) {
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
        }
        return positions;
    }

    /**
     * Waits for a call. No overall timeout: every frame it sent is bounded by the request timeout, so the call
     * completes; a failure is unwrapped into the exception the donor's status names.
     */
    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof PagePoolException p) {
                throw p;
            }
            throw new PagePoolException(Status.INTERNAL, String.valueOf(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DonorUnavailableException("interrupted");
        }
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Groups batch positions by donor and sends each group in frames of at most 256 pages. */
    static final class DonorGroups {
        private final int[][] picks;
        private final int[] counts;

        DonorGroups(int donors) {
            picks = new int[donors][];
            counts = new int[donors];
        }

        void add(int donor, int position) {
            int[] p = picks[donor];
            if (p == null) {
                p = picks[donor] = new int[16];
            } else if (counts[donor] == p.length) {
                p = picks[donor] = java.util.Arrays.copyOf(p, p.length * 2);
            }
            p[counts[donor]++] = position;
        }

        /** Calls {@code sender} per frame; the futures of every frame, each already handled by the sender. */
        List<CompletableFuture<Void>> send(FrameSender sender) {
            List<CompletableFuture<Void>> frames = new ArrayList<>();
            for (int d = 0; d < counts.length; d++) {
                int n = counts[d];
                for (int start = 0; start < n; start += Frame.MAX_PAGES_PER_FRAME) {
                    int k = Math.min(Frame.MAX_PAGES_PER_FRAME, n - start);
                    int[] frame = start == 0 && k == n ? picks[d] : java.util.Arrays.copyOfRange(picks[d], start, start + k);
                    frames.add(sender.send(d, frame, k));
                }
            }
            return frames;
        }
    }

    @FunctionalInterface
    interface FrameSender {
        CompletableFuture<Void> send(int donor, int[] picks, int k);
    }
}
