package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The donors a client uses and the pools it made on them: which donors are in service, their connections, and
 * the rules by which a donor leaves service and comes back.
 *
 * <p>What a failure means is decided by one rule ({@link CopyFailure}). A donor that stops answering (a timeout, a
 * closed connection) becomes suspect ({@link #markSuspect}): its copies stay on the map, unused, and what is
 * written meanwhile is marked stale on them. When it answers again ({@link #readmit}, on the watcher thread) it is
 * fenced (no write still queued on an older connection can land afterwards), its pools are checked, and it serves
 * its copies again; the re-replicator copies its stale pages. A donor that is gone (it lost this client's pools,
 * broke the protocol, refuses connections, left the cluster, or stayed silent past the stall bound) goes out of
 * service ({@link #markDown}): its copies are forgotten first and its connections closed after, so the requests
 * that fail on the close are placed again on donors still in service, and it comes back only with whatever it
 * still holds of this client's pools wiped. A donor that left the cluster is removed and its index given to the
 * next donor that joins.
 *
 * <p>Threads: {@link #connection} and {@link #markDown} are called from event loops and never wait (markDown
 * takes a monitor held only for in-memory bookkeeping). Readmission and load polling run on the watcher thread,
 * which may wait for replies because no reply depends on it.
 */
final class DonorSet implements AutoCloseable {
    /** Donor indexes fit the bit masks placement uses. */
    static final int MAX_DONORS = 64;
    private static final Logger LOG = Logger.getLogger(DonorSet.class.getName());
    private static final long WATCH_PERIOD_MILLIS = 200;
    private static final long PROBE_AGAIN_MILLIS = 100;
    private static final long LOAD_POLL_MILLIS = 1000;

    private final ClientConfig config;
    private final Vertx vertx;
    private final NanoClock clock;
    private final ClientCounters counters;
    private final DonorLink[] links = new DonorLink[MAX_DONORS];
    /** Indexes in use or once used: every loop over donors runs to here. */
    private volatile int linkCount;
    private final List<PoolRef> pools = new CopyOnWriteArrayList<>();
    private final HandbackTaker handbacks;
    private final ScheduledExecutorService watcher;
    private final Object downLock = new Object();
    /**
     * Held while pools are created or destroyed and while a donor is readmitted: a pool made during a readmission
     * must exist on the readmitted donor too, and a pool destroyed meanwhile must not be created there again.
     */
    private final Object admission = new Object();
    private final DonorLink.Connector connector;
    private final CallerLanes lanes;
    private volatile boolean loadsFromCluster;
    private volatile boolean closed;

    DonorSet(ClientConfig config, Vertx vertx, NanoClock clock, ClientCounters counters) {
        this.config = config;
        this.vertx = vertx;
        this.clock = clock;
        this.counters = counters;
        this.handbacks = new HandbackTaker(this);
        this.connector = address -> DonorConnection.open(vertx, address, config, new DonorConnection.DonorRequests() {
            @Override
            public void onRequest(DonorConnection conn, dev.pagepool.protocol.FrameHeader header, io.netty.buffer.ByteBuf body) {
                onDonorRequest(conn, header, body);
            }

            @Override
            public void onClosedByDonor(DonorConnection conn) {
                probe(conn);
            }
        }, clock);
        this.watcher = Executors.newSingleThreadScheduledExecutor(PagePoolClient.daemon("pagepool-donors"));
        this.lanes = new CallerLanes(config, vertx, clock, this);
    }

    /** The application threads' own connections, for synchronous calls. */
    CallerLanes lanes() {
        return lanes;
    }

    /** Opens the configured donors (the caller's thread waits); fails if none can be reached. */
    void start() {
        PagePoolException firstFailure = null;
        for (InetSocketAddress address : config.nodes()) {
            DonorLink link = add(address);
            try {
                PagePoolClient.join(link.open(connector));
                if (isAlias(link)) {
                    continue;
                }
                link.markUp();
            } catch (DonorUnavailableException e) {
                firstFailure = firstFailure == null ? e : firstFailure;
                link.attemptFailed();
            }
        }
        if (upCount() == 0) {
            throw firstFailure;
        }
        watcher.scheduleWithFixedDelay(this::readmitDue, WATCH_PERIOD_MILLIS, WATCH_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        watcher.scheduleWithFixedDelay(this::pollLoads, 0, LOAD_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    ClientConfig config() {
        return config;
    }

    NanoClock clock() {
        return clock;
    }

    /** Completes after about {@code millis} on a Vert.x timer: a pause that holds no thread. */
    CompletableFuture<Void> pause(long millis) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        vertx.setTimer(Math.max(1, millis), id -> done.complete(null));
        return done;
    }

    /**
     * Whether a request that began at {@code startedNanos} and found every copy it needs on suspect donors may
     * still wait for one of them; counts the wait when it may.
     */
    boolean mayWaitForSuspect(long startedNanos) {
        boolean may = !closed && clock.nanoTime() - startedNanos < config.stallTimeout().toNanos();
        if (may) {
            counters.stallWait();
        }
        return may;
    }

    ClientCounters counters() {
        return counters;
    }

    HandbackTaker handbacks() {
        return handbacks;
    }

    DonorLink link(int donor) {
        return links[donor];
    }

    DonorLink[] links() {
        return links;
    }

    /** Indexes in use or once used; every loop over donors runs to here. */
    int count() {
        return linkCount;
    }

    int upCount() {
        int n = 0;
        for (int d = 0; d < linkCount; d++) {
            n += links[d].isUp() ? 1 : 0;
        }
        return n;
    }

    int suspectCount() {
        int n = 0;
        for (int d = 0; d < linkCount; d++) {
            n += links[d].isSuspect() ? 1 : 0;
        }
        return n;
    }

    List<PoolRef> pools() {
        return pools;
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

    // ---------------------------------------------------------------- membership

    /** Adds a donor (out of service until the watcher admits it); a known donor keeps its index. */
    synchronized DonorLink add(InetSocketAddress address) {
        DonorLink existing = find(DonorLink.addressKey(address));
        if (existing != null) {
            return existing;
        }
        int index = -1;
        for (int d = 0; d < linkCount && index < 0; d++) {
            index = links[d].isRemoved() ? d : -1;
        }
        if (index < 0) {
            if (linkCount == MAX_DONORS) {
                throw new IllegalStateException("a client uses at most " + MAX_DONORS + " donors at once");
            }
            index = linkCount;
        }
        DonorLink link = new DonorLink(index, address, config.connectionsPerNode(), clock);
        for (PoolRef pool : pools) {
            pool.clearIdOn(index); // whatever a readmission of the index's last donor left
        }
        links[index] = link;
        linkCount = Math.max(linkCount, index + 1);
        return link;
    }

    /**
     * The donor left the cluster: out of service at once and removed, so that its index can serve a donor that
     * joins later and the watcher stops trying its address. Never waits.
     */
    void remove(InetSocketAddress address) {
        DonorLink link = find(DonorLink.addressKey(address));
        if (link == null) {
            return;
        }
        markDown(link, "left the cluster");
        synchronized (this) {
            link.remove();
            for (PoolRef pool : pools) {
                pool.clearIdOn(link.index);
            }
        }
        // A readmission that was under way may have put it back in service between the two steps above and placed
        // copies on it; a removed donor is never in service again, so what it got meanwhile is forgotten now.
        int lost = 0;
        for (PoolRef pool : pools) {
            int n = pool.extents.dropDonor(link.index);
            lost += pool.spec().persistent() ? n : 0;
        }
        counters.extentsLost(lost);
    }

    void reportFree(InetSocketAddress address, long freeBytes, boolean fromCluster) {
        loadsFromCluster |= fromCluster;
        DonorLink link = find(DonorLink.addressKey(address));
        if (link != null) {
            link.reportFree(freeBytes);
        }
    }

    private synchronized DonorLink find(String addressKey) {
        for (int d = 0; d < linkCount; d++) {
            if (!links[d].isRemoved() && links[d].addressKey().equals(addressKey)) {
                return links[d];
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- pools

    /** Registers a pool and creates it on every donor in service (the caller's thread waits). */
    void create(PoolRef pool) {
        synchronized (admission) {
            for (int d = 0; d < linkCount; d++) {
                DonorLink link = links[d];
                if (link.isUp()) {
                    try {
                        pool.setIdOn(link, PagePoolClient.join(createOn(link, pool.spec())));
                    } catch (DonorUnavailableException e) {
                        markDown(link, e.getMessage());
                    }
                }
            }
            pools.add(pool);
        }
    }

    /**
     * Registers a pool a previous process made (see {@link PagePoolClient#resumePool}): its donors are found or
     * added by the addresses it recorded, the map is renumbered to this client's donor indexes, and every one of
     * them starts suspect, to be fenced and checked by the watcher before its copies are read.
     */
    void resume(PoolRef pool) {
        synchronized (admission) {
            PoolMemory memory = pool.memory();
            int[] to = new int[MAX_DONORS];
            java.util.Arrays.fill(to, ExtentMap.NONE);
            String[] address = new String[MAX_DONORS];
            int[] id = new int[MAX_DONORS];
            for (int d = 0; d < MAX_DONORS; d++) {
                address[d] = memory.donorAddress(d);
                id[d] = memory.poolId(d);
                if (address[d] != null && id[d] != PoolRef.NO_POOL) {
                    to[d] = add(ClientConfig.parseNodes(address[d]).get(0)).index;
                }
            }
            synchronized (pool.extents.lock()) {
                for (int d = 0; d < MAX_DONORS; d++) {
                    pool.clearIdOn(d);
                }
                pool.extents.renumberDonors(to);
                for (int d = 0; d < MAX_DONORS; d++) {
                    if (to[d] != ExtentMap.NONE) {
                        pool.setIdOn(links[to[d]], id[d]);
                    }
                }
                pool.extents.settleWritesOfTheDead();
            }
            pools.add(pool);
            for (int d = 0; d < MAX_DONORS; d++) {
                if (to[d] != ExtentMap.NONE) {
                    DonorLink link = links[to[d]];
                    link.markResumed();
                    link.closeConnections(); // opened again, fenced, by the watcher
                }
            }
        }
    }

    /** Creates the pool on every connection that must present a shared pool's UUID; completes with its id. */
    private CompletableFuture<Integer> createOn(DonorLink link, dev.pagepool.protocol.PoolSpec spec) {
        int connectionsToAsk = spec.shared() ? link.connectionCount() : 1;
        CompletableFuture<Integer> id = CompletableFuture.completedFuture(PoolRef.NO_POOL);
        for (int c = 0; c < connectionsToAsk; c++) {
            DonorConnection conn = link.slot(c);
            if (conn == null) {
                return CompletableFuture.failedFuture(new DonorUnavailableException("donor " + link.name() + " is out of service"));
            }
            id = id.thenCompose(previous -> FrameCalls.newPool(conn, spec).thenApply(fresh -> {
                if (previous != PoolRef.NO_POOL && previous != fresh) {
                    throw new ProtocolViolationException("donor " + link.name() + " gave one shared pool two ids");
                }
                return fresh;
            }));
        }
        return id;
    }

    /** Destroys the pool on every donor; returns the pages removed, counting every copy. */
    long destroy(PoolRef pool) {
        synchronized (admission) {
            pool.markDestroyed();
            pools.remove(pool);
            long removed = 0;
            for (int d = 0; d < linkCount; d++) {
                int id = pool.idOn(d);
                if (id != PoolRef.NO_POOL && links[d].isUp()) {
                    try {
                        removed += PagePoolClient.join(connection(links[d]).thenCompose(c -> FrameCalls.destroyPool(c, id)));
                    } catch (DonorUnavailableException e) {
                        markDown(links[d], e.getMessage());
                    }
                }
                pool.clearIdOn(d);
            }
            return removed;
        }
    }

    // ---------------------------------------------------------------- connections

    /**
     * A connection to an UP donor for one request; never waits. A connection the donor closed (idle, say) is
     * opened again first; if the donor meanwhile lost this client's pools (it restarted, or a shared pool came
     * back under another id), it is taken out of service instead.
     */
    CompletableFuture<DonorWire> connection(DonorLink link) {
        if (!link.isUp()) {
            return CompletableFuture.failedFuture(new DonorUnavailableException("donor " + link.name() + " is out of service"));
        }
        DonorWire lane = lanes.laneTo(link);
        if (lane != null) {
            return CompletableFuture.completedFuture(lane); // a synchronous call, on its caller's own connection
        }
        int c = link.pickSlot();
        DonorConnection conn = link.slot(c);
        if (conn != null && conn.isOpen()) {
            return CompletableFuture.completedFuture(conn);
        }
        return link.reopen(c, connector, fresh -> verifyPools(link, fresh)).<DonorWire>thenApply(fresh -> fresh)
            .whenComplete((fresh, error) -> {
                if (error != null) {
                    failed(link, error);
                }
            });
    }

    /** Checks that a fresh connection reaches the same pools as before, one pool after the other. */
    <W extends DonorWire> CompletableFuture<W> verifyPools(DonorLink link, W fresh) {
        CompletableFuture<Void> checked = CompletableFuture.completedFuture(null);
        for (PoolRef pool : pools) {
            int id = pool.idOn(link.index);
            if (id == PoolRef.NO_POOL) {
                continue;
            }
            checked = checked.thenCompose(v -> pool.spec().shared()
                // A shared pool is presented again on the new connection; the donor must answer with the id this
                // client uses, or the client would read another pool's pages under the old id.
                ? FrameCalls.newPool(fresh, pool.spec()).thenAccept(again -> {
                    if (again != id) {
                        throw new DonorUnavailableException("donor " + link.name() + " now gives shared pool id "
                            + again + " where it gave " + id + " (restarted)");
                    }
                })
                : poolIntact(fresh, id).thenAccept(intact -> {
                    if (!intact) {
                        throw new DonorUnavailableException("donor " + link.name() + " no longer has pool " + id
                            + " (restarted, or the lease ran out)");
                    }
                }));
        }
        return checked.thenApply(v -> fresh);
    }

    /** Whether the donor still has the private pool: a one-page GET answers NO_SUCH_POOL if not. */
    private static CompletableFuture<Boolean> poolIntact(DonorWire conn, int id) {
        return FrameCalls.get(conn, id, false, new long[] {0}, new int[] {0},
                PageSlots.contiguous(new byte[Frame.PAGE_BYTES]), new int[] {0}, 1, (i, s) -> { })
            .handle((v, error) -> {
                if (error == null) {
                    return true;
                }
                if (PagePoolClient.unwrap(error) instanceof NoSuchPoolException) {
                    return false;
                }
                throw new java.util.concurrent.CompletionException(PagePoolClient.unwrap(error));
            });
    }

    // ---------------------------------------------------------------- out of service and back

    /**
     * Takes a donor out of service. Its copies are forgotten at once (reads go elsewhere; extents left without a
     * copy are lost) before its connections are closed, and it comes back only through {@link #readmit}.
     */
    void markDown(DonorLink link, String reason) {
        int lostExtents = 0;
        // One at a time, and callers wait for the drop to finish: a request that failed on the same donor must not
        // be placed again while the map still names it.
        synchronized (downLock) {
            if (!link.markDown()) {
                return;
            }
            for (PoolRef pool : pools) {
                int lost = pool.extents.dropDonor(link.index);
                // An ephemeral page may vanish at any time: only persistent extents count as lost.
                lostExtents += pool.spec().persistent() ? lost : 0;
            }
            // Counted once its copies are forgotten: whoever sees the count sees the map it left.
            counters.extentsLost(lostExtents);
            counters.donorDown();
        }
        LOG.log(Level.WARNING, "donor " + link.name() + " out of service: " + reason
            + (lostExtents > 0 ? "; " + lostExtents + " extents lost their last copy" : ""));
        link.closeConnections();
        lanes.closeLanesTo(link);
    }

    /**
     * A donor stopped answering: it becomes suspect. Its complete copies stay on the map, neither read nor written
     * until it answers again; its filling copies are given up (their copying cannot finish). Its connections are
     * closed, so the requests under way on them fail now and go to the other copies. Never waits.
     */
    void markSuspect(DonorLink link, String reason) {
        synchronized (downLock) {
            if (!link.markSuspect()) {
                return;
            }
            for (PoolRef pool : pools) {
                pool.extents.dropFillingOn(link.index);
            }
            counters.donorSuspect();
        }
        LOG.log(Level.WARNING, "donor " + link.name() + " suspect: " + reason + "; its copies are kept until it answers, "
            + "for at most " + config.stallTimeout().toMillis() + " ms");
        link.closeConnections();
        lanes.closeLanesTo(link);
    }

    /**
     * Applies the one rule ({@link CopyFailure}) to a request that failed on donor {@code d} for the pages
     * {@code picks[0..k)} of {@code pool}: a donor that is gone goes out of service, a copy that is gone is
     * forgotten, and an unreachable copy keeps its place with those pages stale when the request may have changed
     * them ({@code changing}: a put, flush or exclusive get), its donor suspect if it gave no answer at all.
     * Returns the outcome; the caller's own refusals are left to the caller.
     */
    CopyFailure copyFailed(PoolRef pool, DonorLink link, int[] entryOf, int[] indexes, int[] picks, int k,
                           Throwable error, boolean changing) {
        CopyFailure outcome = CopyFailure.of(error);
        Throwable cause = PagePoolClient.unwrap(error);
        if (outcome == CopyFailure.CALLERS) {
            return outcome;
        }
        if (pool.spec().shared() || (outcome == CopyFailure.GONE && CopyFailure.wholeDonor(cause))) {
            // A shared pool has no map of copies to keep: its donor goes, as does one that is gone as a whole.
            markDown(link, cause.getMessage());
        } else if (outcome == CopyFailure.GONE) {
            dropCopies(pool, link.index, entryOf, picks, k);
        } else {
            if (changing) {
                markStale(pool, link.index, entryOf, indexes, picks, k);
            }
            if (CopyFailure.silent(cause)) {
                markSuspect(link, cause.getMessage());
            }
        }
        return outcome;
    }

    /** Marks the pages {@code picks[0..k)} stale on donor {@code d}'s copies of their extents. */
    static void markStale(PoolRef pool, int d, int[] entryOf, int[] indexes, int[] picks, int k) {
        ExtentMap map = pool.extents;
        synchronized (map.lock()) {
            for (int j = 0; j < k; j++) {
                int e = entryOf[picks[j]];
                if (e != ExtentMap.NONE) {
                    map.markStale(e, d, indexes[picks[j]]);
                }
            }
        }
    }

    /**
     * Forgets donor {@code d}'s copies of the extents {@code entryOf[picks[0..k)]} of {@code pool}: their content is
     * no longer known, so they are never read again. Extents left without a copy are counted lost.
     */
    void dropCopies(PoolRef pool, int d, int[] entryOf, int[] picks, int k) {
        ExtentMap map = pool.extents;
        int lost = 0;
        synchronized (map.lock()) {
            for (int j = 0; j < k; j++) {
                int e = entryOf[picks[j]];
                if (e != ExtentMap.NONE && map.dropCopy(e, d) && pool.spec().persistent()) {
                    lost++;
                }
            }
        }
        counters.extentsLost(lost);
    }

    /** The donors of {@code mask} answered NO_SUCH_POOL where another copy had the pool: they lost it. */
    void lostPool(long mask, PoolRef pool) {
        for (int d = 0; mask != 0 && d < linkCount; d++) {
            if ((mask & (1L << d)) != 0) {
                markDown(links[d], "no longer has pool " + pool.idOn(d) + " (restarted, or the lease ran out)");
            }
        }
    }

    /** A request that touched no page failed (stats, say): a silent donor is suspect, a broken one gone. */
    void failed(DonorLink link, Throwable error) {
        Throwable cause = PagePoolClient.unwrap(error);
        if (cause instanceof ProtocolViolationException) {
            markDown(link, cause.getMessage());
        } else if (CopyFailure.silent(cause)) {
            markSuspect(link, cause.getMessage());
        }
    }

    private void readmitDue() {
        long bound = config.stallTimeout().toNanos();
        for (int d = 0; d < linkCount && !closed; d++) {
            DonorLink link = links[d];
            if (link.suspectLongerThan(bound)) {
                markDown(link, "silent for longer than the stall bound of " + config.stallTimeout().toMillis() + " ms");
            }
            if (link.attemptDue()) {
                readmit(link);
            }
        }
    }

    /**
     * Brings a donor (back) into service, on the watcher thread. A suspect donor is fenced first (no write still
     * queued on a connection the client gave up can land afterwards) and its private pools are checked: intact,
     * its copies serve again, with the pages written meanwhile stale until the re-replicator copies them; missing
     * (it restarted, or its lease ran out), it is gone. A donor that was gone has whatever it holds of this
     * client's private pools wiped first: its pages may be older than what was written elsewhere since. A shared
     * pool is left alone (other clients use it) and joined again.
     */
    void readmit(DonorLink link) {
        synchronized (admission) {
            if (link.isRemoved()) {
                return;
            }
            boolean suspect = link.isSuspect();
            try {
                PagePoolClient.join(link.open(connector));
                if (isAlias(link)) {
                    return;
                }
                DonorConnection conn = link.slot(0);
                if (suspect) {
                    PagePoolClient.join(FrameCalls.fence(conn));
                    String missing = missingPool(link, conn);
                    if (missing != null) {
                        markDown(link, missing);
                        link.closeConnections();
                        return;
                    }
                }
                for (PoolRef pool : pools) {
                    int old = pool.idOn(link.index);
                    if (suspect && old != PoolRef.NO_POOL && !pool.spec().shared()) {
                        continue; // checked intact above: its copies serve again as they are
                    }
                    if (old != PoolRef.NO_POOL && !pool.spec().shared() && conn != null) {
                        try {
                            PagePoolClient.join(FrameCalls.destroyPool(conn, old));
                        } catch (NoSuchPoolException gone) {
                            // restarted, or its lease ran out: nothing stale to wipe
                        }
                    }
                    if (old != PoolRef.NO_POOL && pool.spec().shared() && conn != null
                            && pool.owedFlushes().overflowed(link.index)) {
                        // Too much was put elsewhere meanwhile to flush page by page: the pool's copy there goes.
                        pool.owedFlushes().take(link.index);
                        try {
                            PagePoolClient.join(FrameCalls.destroyPool(conn, old));
                        } catch (NoSuchPoolException gone) {
                            // nothing stale to wipe
                        }
                    }
                    pool.setIdOn(link, PagePoolClient.join(createOn(link, pool.spec())));
                    flushOwed(link, pool);
                }
                link.markUp();
                try {
                    for (PoolRef pool : pools) {
                        flushOwed(link, pool); // what was owed while the first pass ran
                    }
                } catch (PagePoolException e) {
                    markDown(link, "flushing what it owes failed: " + e.getMessage());
                    return;
                }
                if (suspect) {
                    counters.donorReattached();
                    LOG.info("donor " + link.name() + " answers again with this client's pools intact: in service");
                } else {
                    counters.donorReadmitted();
                    LOG.info("donor " + link.name() + " in service");
                }
            } catch (PagePoolException e) {
                link.closeConnections();
                link.attemptFailed();
                if (suspect) {
                    probe(link, false); // a donor whose port refuses connections is not frozen but gone
                }
            }
        }
    }

    /**
     * Whether the freshly opened {@code link} reached a donor another link already reaches (the same id in its
     * handshake: two names of one host, say). It is then no donor of its own: it is removed, so that two copies of
     * a page never land on one process.
     */
    private boolean isAlias(DonorLink link) {
        java.util.UUID id = link.donorId();
        for (int d = 0; id != null && d < linkCount; d++) {
            DonorLink other = links[d];
            if (other != link && !other.isRemoved() && id.equals(other.donorId())) {
                link.closeConnections();
                synchronized (this) {
                    link.remove();
                }
                LOG.warning(link.addressKey() + " reaches donor " + other.name() + " (" + other.addressKey()
                    + "), known already: one donor, not two");
                return true;
            }
        }
        return false;
    }

    /** Why a suspect donor that answers again no longer has one of this client's private pools; null if none. */
    private String missingPool(DonorLink link, DonorConnection conn) {
        for (PoolRef pool : pools) {
            int id = pool.idOn(link.index);
            try {
                if (id != PoolRef.NO_POOL && !pool.spec().shared() && !PagePoolClient.join(poolIntact(conn, id))) {
                    return "answers again without pool " + id + " (restarted, or the lease ran out)";
                }
            } catch (BadSecretException e) {
                return "refuses pool " + id + " to this client's pool secret, which is not the one the pool was made with"
                    + " (another client's pool, or the secret was not kept): " + e.getMessage();
            }
        }
        return null;
    }

    /**
     * Flushes on a readmitted donor the shared pool's pages this client put or flushed while it was out of
     * service: it may hold older versions of them. On the watcher thread, which may wait.
     */
    private void flushOwed(DonorLink link, PoolRef pool) {
        if (!pool.spec().shared()) {
            return;
        }
        List<long[]> owed = pool.owedFlushes().take(link.index);
        DonorConnection conn = link.slot(0);
        int id = pool.idOn(link.index);
        for (int start = 0; start < owed.size() && conn != null && id != PoolRef.NO_POOL; start += Frame.MAX_PAGES_PER_FRAME) {
            int k = Math.min(Frame.MAX_PAGES_PER_FRAME, owed.size() - start);
            long[] objects = new long[k];
            int[] indexes = new int[k];
            int[] picks = new int[k];
            for (int j = 0; j < k; j++) {
                objects[j] = owed.get(start + j)[0];
                indexes[j] = (int) owed.get(start + j)[1];
                picks[j] = j;
            }
            try {
                PagePoolClient.join(FrameCalls.flush(conn, id, objects, indexes, picks, k, (i, s) -> { }));
            } catch (PagePoolException e) {
                pool.owedFlushes().overflow(link.index); // what was taken is not flushed: wipe the pool next time
                throw e;
            }
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
                Map<String, Long> s = PagePoolClient.join(stats(link));
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

    CompletableFuture<Map<String, Long>> stats(DonorLink link) {
        return connection(link).thenCompose(FrameCalls::stats);
    }

    private void onDonorRequest(DonorConnection conn, dev.pagepool.protocol.FrameHeader header, io.netty.buffer.ByteBuf body) {
        DonorLink link = linkOf(conn);
        if (link == null) {
            body.release();
            return;
        }
        handbacks.onRequest(link, conn, header, body);
    }

    /**
     * A connection the donor closed is followed by a bare TCP connect to its port, closed at once. A donor that
     * died while nothing was asked of it refuses it, and goes out of service now, so its extents are copied again
     * now rather than when the cluster or the next request notices. A donor that only closed an idle connection
     * accepts it, and the connection is opened again when a request needs it, as before: the client does not
     * hold a connection the donor chose to close. An accepted connect is tried once more {@link
     * #PROBE_AGAIN_MILLIS} later: a dying process may close its connections before its listening socket. Called
     * on the event loop; never waits.
     */
    private void probe(DonorConnection conn) {
        DonorLink link = linkOf(conn);
        if (!closed && link != null && (link.isUp() || link.isSuspect()) && link.mayProbeNow()) {
            probe(link, true);
        }
    }

    private void probe(DonorLink link, boolean again) {
        NetClient prober = vertx.createNetClient(new NetClientOptions()
            .setConnectTimeout((int) config.connectTimeout().toMillis()));
        prober.connect(link.address.getPort(), link.address.getHostString()).onComplete(ar -> {
            if (ar.succeeded()) {
                ar.result().close();
            }
            prober.close();
            if (closed || !(link.isUp() || link.isSuspect())) {
                return;
            }
            if (ar.failed()) {
                markDown(link, "closed its connection and refuses new ones: " + ar.cause().getMessage());
            } else if (again) {
                vertx.setTimer(PROBE_AGAIN_MILLIS, id -> probe(link, false));
            }
        });
    }

    private DonorLink linkOf(DonorConnection conn) {
        for (int d = 0; d < linkCount; d++) {
            DonorLink link = links[d];
            for (int c = 0; c < link.connectionCount(); c++) {
                if (link.slot(c) == conn) {
                    return link;
                }
            }
        }
        // A connection still being opened (a HANDBACK can arrive before it is installed): match by address.
        for (int d = 0; d < linkCount; d++) {
            if (!links[d].isRemoved() && links[d].addressKey().equals(conn.name())) {
                return links[d];
            }
        }
        return null;
    }

    @Override
    public void close() {
        closed = true;
        lanes.close();
        handbacks.close();
        watcher.shutdownNow();
        for (int d = 0; d < linkCount; d++) {
            links[d].closeConnections();
        }
    }
}
