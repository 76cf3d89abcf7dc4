package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Java client of a pagepool cluster: tmem's put, get and flush on pools spread over donors.
 *
 * <p>Two ways in. The vector calls ({@link #putBatch}, {@link #getBatch}) take many pages at once and send
 * one frame per donor per 256 pages. The single-page calls ({@link #put}, {@link #get}) are for callers that
 * have one page at a time; concurrent calls are coalesced by a {@link RequestCoalescer} into vectored frames,
 * since the frontswap review's lesson holds on a network even more than in a hypervisor.
 *
 * <p>Placement, copies, failover and re-replication follow the rules of the repository's docs/replication.md.
 *
 * <p>Every page carries a CRC32C end to end. Thread-safe; the threading contract is in the package comment: the
 * synchronous methods wait and are for the application's own threads, the {@code Async} ones never wait.
 */
public final class PagePoolClient implements AutoCloseable {
    static {
        NettyBufferCache.apply(); // before the client makes a Vert.x, and so loads Netty's allocator
    }

    private final Vertx vertx;
    private final boolean ownsVertx;
    private final ClientConfig config;
    private final ClientCounters counters = new ClientCounters();
    private final HandbackTaker handbacks;
    private final CallerLanes lanes;
    private final DonorSet donors;
    private final RequestCoalescer coalescer;
    private final ReReplicator reReplicator;
    private final ClientConductor conductor;
    /** The BUSY pauses of the event-loop connections, served by the conductor first. */
    private final BusyPauses pauses;
    /** Runs the conductor; null when the caller runs it by hand (tests). */
    private final ControlThread control;

    private PagePoolClient(ClientConfig config, Vertx vertx, boolean ownsVertx, NanoClock clock, boolean ownConductor) {
        this.vertx = vertx;
        this.ownsVertx = ownsVertx;
        this.config = config;
        ClientPools pools = new ClientPools();
        PoolCheck poolCheck = new PoolCheck(pools);
        this.handbacks = new HandbackTaker(pools);
        this.lanes = new CallerLanes(config, vertx, clock, poolCheck);
        this.pauses = new BusyPauses(clock, this::wakeConductor);
        this.donors = new DonorSet(config, vertx, clock, pauses, counters, pools, poolCheck, handbacks::onRequest,
            lanes::closeLanesTo);
        try {
            donors.start();
        } catch (RuntimeException e) {
            closeParts();
            closeVertx();
            throw e;
        }
        this.coalescer = new RequestCoalescer(vertx, new RequestCoalescer.VectorCalls() {
            @Override
            public CompletableFuture<PageStatus[]> put(PoolRef pool, long[] objects, int[] indexes, long[] versions,
                                                       PageSlots pages, int n) {
                return putOn(donors, pool, objects, indexes, versions, pages, n);
            }

            @Override
            public CompletableFuture<PageStatus[]> get(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive,
                                                       PageSlots dst) {
                return getOn(donors, pool, objects, indexes, n, exclusive, dst);
            }
        });
        Runnable wake = this::wakeConductor;
        this.reReplicator = new ReReplicator(donors, pools, counters, wake);
        ControlDuty[] donorDuties = donors.duties(wake);
        this.conductor = new ClientConductor(clock, pauses, donorDuties[0], donorDuties[1], reReplicator);
        this.control = ownConductor ? new ControlThread(conductor, clock) : null;
    }

    private void wakeConductor() {
        // Replies may come before the constructor is done; the control thread looks on its own soon after.
        ClientConductor c = conductor;
        if (c != null) {
            c.wake();
        }
    }

    /** Connects to every donor of the config (blocking, bounded by the connect timeout). */
    public static PagePoolClient connect(ClientConfig config) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(2, Runtime.getRuntime().availableProcessors()))
            .setPreferNativeTransport(true));
        return new PagePoolClient(config, vertx, true, NanoClock.SYSTEM, true);
    }

    public static PagePoolClient connect(ClientConfig config, Vertx vertx) {
        return new PagePoolClient(config, vertx, false, NanoClock.SYSTEM, true);
    }

    /**
     * With deadlines measured on {@code clock}, and no control thread: the test steps time itself and runs the
     * control work by hand, {@code conductor().doWork(clock.nanoTime())}.
     */
    static PagePoolClient connect(ClientConfig config, Vertx vertx, NanoClock clock) {
        return new PagePoolClient(config, vertx, false, clock, false);
    }

    /** The client's control work: a test calls its {@code doWork} itself. */
    ClientConductor conductor() {
        return conductor;
    }

    // ---------------------------------------------------------------- donors

    /**
     * Adds a donor to follow (a member that joined the cluster); a donor already known keeps its index. With
     * {@code publishedFree} >= 0 that is its free memory, and from then on this client relies on {@link #reportFree}
     * for loads instead of asking donors itself. The donor is admitted in the background.
     */
    public void addDonor(InetSocketAddress address, long publishedFree) {
        addDonor(address, null, null, publishedFree);
    }

    /**
     * Like {@link #addDonor(InetSocketAddress, long)}, for a donor that cluster member {@code member} advertises with
     * {@code donorId} (null: it published none). The first member to advertise an address, among those that
     * published the id the donor proves in its handshake or none, speaks for the donor there ({@link #memberLeft},
     * {@link #reportFree}); what another member publishes of it is ignored.
     */
    public void addDonor(InetSocketAddress address, UUID member, UUID donorId, long publishedFree) {
        donors.add(address, member, donorId);
        if (publishedFree >= 0) {
            donors.reportFree(address, member, publishedFree, true);
        }
    }

    /**
     * The donor is gone for good, as the caller knows (an operator removed it): out of service at once, rather than
     * at its first timeout, and forgotten, so the client neither tries its address again nor runs out of donor
     * slots. Never waits. A cluster member that leaves is {@link #memberLeft}: any member may claim any address.
     */
    public void donorLeft(InetSocketAddress address) {
        donors.remove(address);
    }

    /**
     * Cluster member {@code member}, which advertised a donor at {@code address}, left. If it is the member that
     * speaks for the donor, the donor becomes suspect: its copies are kept, it is readmitted if it answers with its
     * pools intact, and it is forgotten once out of service with no member advertising it. A departure of any other
     * member changes nothing and is counted ({@link ClientCounters#membershipEventsIgnored}). Never waits.
     */
    public void memberLeft(InetSocketAddress address, UUID member) {
        donors.memberLeft(address, member);
    }

    /** The free memory a donor published; placement prefers donors with more. */
    public void reportFree(InetSocketAddress address, long freeBytes) {
        donors.reportFree(address, null, freeBytes, true);
    }

    /** Like {@link #reportFree(InetSocketAddress, long)}, ignored unless {@code member} speaks for the donor. */
    public void reportFree(InetSocketAddress address, UUID member, long freeBytes) {
        donors.reportFree(address, member, freeBytes, true);
    }

    /** The donors this client follows: in service, suspect or out of service; a donor that left is not counted. */
    public int knownDonors() {
        return donors.known();
    }

    /**
     * Not a count: the bound of donor indexes, the same as {@link #donorIndexLimit}, which counts a donor that left
     * until its index is given to another.
     *
     * @deprecated a loop over indexes runs to {@link #donorIndexLimit}; the donors followed are {@link #knownDonors}
     */
    @Deprecated
    public int donorCount() {
        return donorIndexLimit();
    }

    /**
     * Donor indexes run from 0 to this, exclusive: the bound of a loop over {@link #donorUp}, {@link #donorName} or
     * {@link #stats}. An index whose donor left is not up until a donor that joins later is given it.
     */
    public int donorIndexLimit() {
        return donors.count();
    }

    public boolean donorUp(int donor) {
        return donors.link(donor).isUp();
    }

    public int upCount() {
        return donors.upCount();
    }

    /** Donors that stopped answering and are not known gone: their copies are kept until they answer again. */
    public int suspectCount() {
        return donors.suspectCount();
    }

    /** The free memory placement counts on for a donor: its last report minus what was placed on it since. */
    public long donorFreeBytes(int donor) {
        return donors.link(donor).freeBytes();
    }

    public ClientConfig config() {
        return config;
    }

    /** The name each donor gave in its HELLO reply. */
    public String donorName(int donor) {
        return donors.link(donor).name();
    }

    public ClientCounters counters() {
        return counters;
    }

    /**
     * Who takes the persistent pages donors give back under pressure or when draining, of every pool that has no
     * receiver of its own; until one is set, donors keep them (and keep rejecting puts). One per client: a second
     * is refused with {@link IllegalStateException}.
     */
    public void onHandback(HandbackReceiver receiver) {
        handbacks.receiver(receiver);
    }

    /**
     * Who takes the pages of {@code pool} that donors give back: several stores on one client each take their own
     * pool's. One per pool, until the pool is destroyed: a second is refused with {@link IllegalStateException}.
     */
    public void onHandback(PoolRef pool, HandbackReceiver receiver) {
        handbacks.receiver(pool, receiver);
    }

    /** Extents of persistent pools with fewer complete copies than their pool wants, lost ones included. */
    public int underReplicatedExtents() {
        return reReplicator.underReplicated();
    }

    // ---------------------------------------------------------------- pools

    /**
     * Creates the pool on every donor in service: 2 copies of each page for a private persistent pool, else 1.
     * The count is a target, not a snapshot of the donors up now: with fewer donors, pages are stored on those
     * there are ({@link #underReplicatedExtents} counts the shortfall) and copied as donors join.
     */
    public PoolRef newPool(PoolSpec spec) {
        return newPool(spec, spec.persistent() && !spec.shared() ? 2 : 1);
    }

    /**
     * Creates the pool with {@code replicas} copies of each page (1 for ephemeral pools). For a shared pool this
     * joins the existing pool with the spec's UUID, presenting it on every connection as the donors require.
     */
    public PoolRef newPool(PoolSpec spec, int replicas) {
        return newPool(spec, replicas, PoolMemory.onHeap());
    }

    /** The same, with the pool's bookkeeping in {@code memory} (formatted afresh by the caller). */
    public PoolRef newPool(PoolSpec spec, int replicas, PoolMemory memory) {
        checkReplicas(spec, replicas);
        PoolRef pool = new PoolRef(spec, replicas, memory);
        donors.create(pool);
        return pool;
    }

    /**
     * Resumes a private persistent pool that a process before this one made, from the bookkeeping it left in
     * {@code memory}: the same client id is needed (see {@link ClientConfig#withClientId}), within the donors'
     * lease. Every donor it recorded starts suspect: it is fenced (nothing the dead process still had on the wire
     * can land afterwards) and its pool checked before its copies are read, and reads wait for that, up to the stall
     * bound. A donor that lost the pool meanwhile is gone, with its copies. Extents that had a write under way when
     * the process died keep one copy; the others are copied again from it.
     */
    public PoolRef resumePool(PoolSpec spec, int replicas, PoolMemory memory) {
        checkReplicas(spec, replicas);
        if (spec.shared() || !spec.persistent()) {
            throw new IllegalArgumentException("only a private persistent pool is resumed");
        }
        PoolRef pool = new PoolRef(spec, replicas, memory);
        donors.resume(pool);
        return pool;
    }

    private static void checkReplicas(PoolSpec spec, int replicas) {
        if (replicas < 1 || replicas > ExtentMap.MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be 1.." + ExtentMap.MAX_REPLICAS + ", got " + replicas);
        }
        if ((!spec.persistent() || spec.shared()) && replicas != 1) {
            throw new IllegalArgumentException("ephemeral and shared pools keep one copy");
        }
    }

    /** Destroys the pool on every donor; returns the pages removed (each page counted once, not per copy). */
    public long destroyPool(PoolRef pool) {
        handbacks.forget(pool);
        return donors.destroy(pool) / pool.replicas();
    }

    // ---------------------------------------------------------------- vectors

    /** Puts {@code n} pages, page i at {@code pages[i * 4096]}; a status per page. */
    public PageStatus[] putBatch(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return ClientThreads.join(putBatchAsync(pool, objects, indexes, pages, n));
    }

    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, byte[] pages, int n) {
        return putBatchAsync(pool, objects, indexes, PageSlots.contiguous(pages), n);
    }

    /** Puts {@code n} pages from wherever {@code pages} says they are. */
    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, PageSlots pages, int n) {
        return putOn(donors, pool, objects, indexes, null, pages, n);
    }

    /**
     * Puts {@code n} pages, page i with {@code versions[i]}: an opaque number the donor keeps with the page and
     * hands back with it (see {@link HandbackReceiver}), so the caller can tell a handed-back page from a newer
     * write ({@link PoolRef#nextVersions} gives each page the one after its last).
     */
    public CompletableFuture<PageStatus[]> putBatchAsync(PoolRef pool, long[] objects, int[] indexes, PageSlots pages,
                                                         long[] versions, int n) {
        return putOn(donors, pool, objects, indexes, versions, pages, n);
    }

    /** A put whose frames go out on {@code wires}. */
    private CompletableFuture<PageStatus[]> putOn(WireSource wires, PoolRef pool, long[] objects, int[] indexes,
                                                         long[] versions, PageSlots pages, int n) {
        if (pool.destroyed()) {
            return CompletableFuture.failedFuture(destroyed(pool));
        }
        PageStatus[] result = new PageStatus[n];
        return new ReplicatedPut(donors, wires, counters, pool, objects, indexes, versions, pages, result).run(all(n), n, 0)
            .thenApply(v -> result);
    }

    /** Gets {@code n} pages into {@code dst[i * 4096]}; a status per page (OK filled, MISS or LOST untouched). */
    public PageStatus[] getBatch(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive, byte[] dst) {
        return ClientThreads.join(getBatchAsync(pool, objects, indexes, n, exclusive, dst));
    }

    public CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n,
                                                         boolean exclusive, byte[] dst) {
        return getBatchAsync(pool, objects, indexes, n, exclusive, PageSlots.contiguous(dst));
    }

    /** Gets {@code n} pages into wherever {@code dst} says. */
    public CompletableFuture<PageStatus[]> getBatchAsync(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive,
                                                         PageSlots dst) {
        return getOn(donors, pool, objects, indexes, n, exclusive, dst);
    }

    /** A get whose frames go out on {@code wires}. */
    private CompletableFuture<PageStatus[]> getOn(WireSource wires, PoolRef pool, long[] objects, int[] indexes,
                                                         int n, boolean exclusive, PageSlots dst) {
        if (pool.destroyed()) {
            return CompletableFuture.failedFuture(destroyed(pool));
        }
        PageStatus[] result = new PageStatus[n];
        CompletableFuture<Void> got = new ReplicatedGet(donors, wires, counters, pool, objects, indexes, dst, result, exclusive)
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
            return new ReplicatedFlush(donors, wires, pool, objects, indexes, flushed).run(found, hits);
        }).thenApply(v -> result);
    }

    /** Removes pages from every copy; OK for each page that was there, MISS otherwise. */
    public PageStatus[] flushPages(PoolRef pool, long[] objects, int[] indexes, int n) {
        return ClientThreads.join(flushPagesAsync(pool, objects, indexes, n));
    }

    public CompletableFuture<PageStatus[]> flushPagesAsync(PoolRef pool, long[] objects, int[] indexes, int n) {
        if (pool.destroyed()) {
            return CompletableFuture.failedFuture(destroyed(pool));
        }
        PageStatus[] result = new PageStatus[n];
        return new ReplicatedFlush(donors, donors, pool, objects, indexes, result).run(all(n), n).thenApply(v -> result);
    }

    public boolean flushPage(PoolRef pool, long object, int index) {
        return flushPages(pool, new long[] {object}, new int[] {index}, 1)[0] == PageStatus.OK;
    }

    /** Removes every page of the object on every donor; returns how many there were (each page once). */
    public long flushObject(PoolRef pool, long object) {
        if (pool.destroyed()) {
            throw destroyed(pool);
        }
        return ClientThreads.join(ReplicatedFlush.object(donors, pool, object)) / pool.replicas();
    }

    // ---------------------------------------------------------------- single pages, coalesced

    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page) {
        return coalescer.put(pool, object, index, page, 0, 0);
    }

    /** The page is {@code page[offset..offset + 4096)}. */
    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page, int offset) {
        return coalescer.put(pool, object, index, page, offset, 0);
    }

    /** With the caller's {@code version} of the page, kept by the donor and handed back with it. */
    public CompletableFuture<PageStatus> putAsync(PoolRef pool, long object, int index, byte[] page, int offset,
                                                  long version) {
        return coalescer.put(pool, object, index, page, offset, version);
    }

    /**
     * Puts one page and waits. A caller alone on an application thread runs the call on that thread: it writes the
     * frame and reads the reply on a connection of its own to each donor it needs; callers at the same moment share
     * frames through the coalescer instead ({@link CallerLanes}).
     */
    public PageStatus put(PoolRef pool, long object, int index, byte[] page) {
        if (page.length < Frame.PAGE_BYTES) {
            throw new IllegalArgumentException("a page is " + Frame.PAGE_BYTES + " bytes, the array has " + page.length);
        }
        return lanes.call(!pool.spec().shared(), donors,
            wires -> putOn(wires, pool, new long[] {object}, new int[] {index}, null, PageSlots.contiguous(page), 1)
                .thenApply(statuses -> statuses[0]),
            () -> putAsync(pool, object, index, page));
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

    /** Gets one page into {@code dst[0..4096)} and waits; on an application thread, on that thread (see {@link #put}). */
    public PageStatus get(PoolRef pool, long object, int index, boolean exclusive, byte[] dst) {
        if (dst.length < Frame.PAGE_BYTES) {
            throw new IllegalArgumentException("destination must hold " + Frame.PAGE_BYTES + " bytes");
        }
        return lanes.call(!pool.spec().shared(), donors,
            wires -> getOn(wires, pool, new long[] {object}, new int[] {index}, 1, exclusive, PageSlots.contiguous(dst))
                .thenApply(statuses -> statuses[0]),
            () -> getAsync(pool, object, index, exclusive, dst));
    }

    // ---------------------------------------------------------------- admin

    /** The donor's counters, by name (the same names as its /admin/stats). */
    public Map<String, Long> stats(int donor) {
        return ClientThreads.join(donors.stats(donors.link(donor)));
    }

    /** Round-trip time to a donor, in nanoseconds. */
    public long ping(int donor) {
        return ClientThreads.join(donors.connection(donors.link(donor)).thenCompose(FrameCalls::ping));
    }

    @Override
    public void close() {
        if (control != null) {
            control.close();
        }
        reReplicator.close();
        closeParts();
        pauses.endAll(); // their frames go again on closed connections and fail, rather than wait for no conductor
        closeVertx();
    }

    private void closeParts() {
        donors.close();
        lanes.close();
        handbacks.close();
    }

    private void closeVertx() {
        if (ownsVertx) {
            vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS)
                .exceptionally(e -> null).join();
        }
    }

    DonorSet donorsForTest() {
        return donors;
    }

    BusyPauses pausesForTest() {
        return pauses;
    }

    CallerLanes lanesForTest() {
        return lanes;
    }

    // ---------------------------------------------------------------- helpers

    private static NoSuchPoolException destroyed(PoolRef pool) {
        return new NoSuchPoolException("the " + pool.spec().kind() + " pool was destroyed");
    }

    private static int[] all(int n) {
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = i;
        }
        return positions;
    }
}
