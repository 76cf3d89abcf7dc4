package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The donors a client uses and the pools it made on them: which donors are in service, their connections, and
 * the rules by which a donor leaves service and comes back.
 *
 * <p>What a failure means is decided by one rule ({@link CopyFailure}). A donor that stops answering (a timeout, a
 * closed connection) becomes suspect ({@link #treatAsSuspect}): its copies stay on the map, unused, and what is
 * written meanwhile is marked stale on them. When it answers again ({@link Readmission}, steps of the conductor) it is
 * fenced (no write still queued on an older connection can land afterwards), its pools are checked, and it serves
 * its copies again; the re-replicator copies its stale pages. A donor that is gone (it lost this client's pools,
 * broke the protocol, refuses connections, left the cluster, or stayed silent past the stall bound) goes out of
 * service ({@link #takeOutOfService}): its copies are forgotten first and its connections closed after, so the requests
 * that fail on the close are placed again on donors still in service, and it comes back only with whatever it
 * still holds of this client's pools wiped. A donor whose advertising cluster member left is only suspect (any
 * member may claim any address, see {@link Advertisers}); once out of service with no member advertising it, it is
 * removed and its index given to the next donor that joins.
 *
 * <p>Threads: {@link #connection} and {@link #takeOutOfService} are called from event loops and never wait (it
 * takes a monitor held only for in-memory bookkeeping). Readmission and load polling are duties of the client's
 * conductor ({@link #duties}): steps that send a request and act on its reply at a later step, never waiting.
 */
final class DonorSet implements WireSource, AutoCloseable {
    /** A client follows at most this many donors at once: one per donor index. */
    static final int MAX_DONORS = DonorIndexes.MAX_DONORS;
    private static final Logger LOG = Logger.getLogger(DonorSet.class.getName());
    private static final long PROBE_AGAIN_MILLIS = 100;

    private final ClientConfig config;
    private final Vertx vertx;
    private final NanoClock clock;
    private final ClientCounters counters;
    private final DonorLink[] links = new DonorLink[MAX_DONORS];
    /** Indexes in use or once used: every loop over donors runs to here. */
    private volatile int linkCount;
    private final ClientPools pools;
    private final PoolCheck poolCheck;
    private final DonorRequests requests;
    private final Object downLock = new Object();
    /**
     * Held, never across I/O, while the set of pools changes and while a readmission puts its donor back in service:
     * a pool made during a readmission must exist on the readmitted donor too, and a pool destroyed meanwhile must
     * not stay there (see {@link Readmission}).
     */
    private final Object admission = new Object();
    private final DonorLink.Connector connector;
    /** Closes the other wires to a donor taken out of service: the callers' lanes. */
    private final Consumer<DonorLink> closeOtherWires;
    private volatile boolean loadsFromCluster;
    /** Whether cluster members publish loads: they are then checked against the donors' own STATS. */
    private volatile boolean loadsFromMembers;
    private volatile boolean closed;

    /** Where the requests a donor sends this client go (hand-backs), with the donor they came from. */
    interface DonorRequests {
        /** On the connection's event loop; owns {@code body}. */
        void onRequest(DonorLink link, DonorConnection conn, FrameHeader header, ByteBuf body);
    }

    DonorSet(ClientConfig config, Vertx vertx, NanoClock clock, BusyPauses pauses, ClientCounters counters,
             ClientPools pools, PoolCheck poolCheck, DonorRequests requests, Consumer<DonorLink> closeOtherWires) {
        this.config = config;
        this.vertx = vertx;
        this.clock = clock;
        this.counters = counters;
        this.pools = pools;
        this.poolCheck = poolCheck;
        this.requests = requests;
        this.closeOtherWires = closeOtherWires;
        this.connector = address -> DonorConnection.open(vertx, address, config, new DonorConnection.DonorRequests() {
            @Override
            public void onRequest(DonorConnection conn, FrameHeader header, ByteBuf body) {
                onDonorRequest(conn, header, body);
            }

            @Override
            public void onClosedByDonor(DonorConnection conn) {
                probe(conn);
            }
        }, clock, pauses);
    }

    /** Opens the configured donors (the caller's thread waits); fails if none can be reached. */
    void start() {
        PagePoolException firstFailure = null;
        for (InetSocketAddress address : config.nodes()) {
            DonorLink link = add(address);
            try {
                ClientThreads.join(link.open(connector));
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
    }

    /** The control work of the donors, for the client's conductor: the watcher and load polling. */
    ControlDuty[] duties(Runnable wake) {
        DutySide side = new DutySide(wake);
        return new ControlDuty[] {new DonorWatcher(side, config.stallTimeout().toNanos()), new LoadPoller(side, wake)};
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

    /** How long a request may wait for a copy on a suspect donor. */
    long stallTimeoutMillis() {
        return config.stallTimeout().toMillis();
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

    /** Donors followed, whatever their state; a donor that left is not one. */
    int known() {
        int n = 0;
        for (int d = 0; d < linkCount; d++) {
            n += links[d].isRemoved() ? 0 : 1;
        }
        return n;
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

    // ---------------------------------------------------------------- membership

    /** Adds a donor (out of service until the watcher admits it); a known donor keeps its index. */
    synchronized DonorLink add(InetSocketAddress address) {
        return add(address, null, null);
    }

    /**
     * Adds a donor that cluster member {@code member} (null: none) advertises, with the donor id it published (null:
     * none). A donor is known by the id it proved in its handshake: a member that publishes a proven id joins that
     * donor's link, whatever address it gives; otherwise a known address keeps its link and index.
     */
    synchronized DonorLink add(InetSocketAddress address, UUID member, UUID donorId) {
        DonorLink link = donorId == null ? null : proven(donorId);
        if (link == null) {
            link = findOrAdd(address);
        }
        if (member != null) {
            link.advertisers.claim(member, donorId);
        }
        return link;
    }

    /**
     * The link whose donor proved {@code donorId} in its handshake, or null: a donor is who it proves to be, so a
     * member that publishes that id speaks of that link, whatever address it gives.
     */
    private DonorLink proven(UUID donorId) {
        for (int d = 0; d < linkCount; d++) {
            if (!links[d].isRemoved() && donorId.equals(links[d].donorId())) {
                return links[d];
            }
        }
        return null;
    }

    /**
     * The link an event of cluster member {@code member} is about: the one it advertised (found by the id the donor
     * proved, when the member published it), else the one at {@code address}, for a member never seen.
     */
    private synchronized DonorLink advertisedBy(UUID member, InetSocketAddress address) {
        for (int d = 0; d < linkCount; d++) {
            if (!links[d].isRemoved() && links[d].advertisers.claimed(member)) {
                return links[d];
            }
        }
        return find(DonorLink.addressKey(address));
    }

    private DonorLink findOrAdd(InetSocketAddress address) {
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
     * The donor is gone for good (its owner says so): out of service at once and removed, so that its index can
     * serve a donor that joins later and the watcher stops trying its address. Never waits.
     */
    void remove(InetSocketAddress address) {
        DonorLink link = find(DonorLink.addressKey(address));
        if (link != null) {
            remove(link, "removed");
        }
    }

    /**
     * The cluster member {@code member}, which advertised {@code address}, left. Only the member that speaks for
     * the donor there counts, and even it only makes the donor suspect: the donor keeps its copies, is readmitted
     * if it answers with its pools intact, and is forgotten once out of service (past the stall bound, say) if no
     * member advertises it by then. Any other member can claim any address, so its departure is ignored and
     * counted. Never waits.
     */
    void memberLeft(InetSocketAddress address, java.util.UUID member) {
        DonorLink link = advertisedBy(member, address);
        if (link == null) {
            return;
        }
        UUID advertiser = link.advertisers.advertiser(link.donorId());
        UUID published = link.advertisers.published(member);
        if (link.advertisers.leave(member, link.donorId()) == Advertisers.Departure.OTHER) {
            counters.membershipEventIgnored();
            LOG.warning("cluster member " + member + " left advertising " + DonorLink.addressKey(address)
                + (published == null ? "" : " as donor id " + published) + ", where donor " + link.name()
                + (link.donorId() == null ? "" : ", which proved id " + link.donorId() + ",")
                + " is advertised by " + (advertiser == null ? "no member" : "member " + advertiser) + ": ignored");
            return;
        }
        treatAsSuspect(link, "cluster member " + member + ", which advertised it, left the cluster");
    }

    private void remove(DonorLink link, String reason) {
        takeOutOfService(link, reason);
        synchronized (this) {
            markRemoved(link);
        }
        forgetCopiesPlacedMeanwhile(link);
    }

    /**
     * A donor out of service that no cluster member advertises any more is forgotten, so that its index serves the
     * next donor that joins and the watcher stops trying its address. Checked and done under this set's monitor,
     * which {@link #add} holds too: a member that advertises the address meanwhile either keeps the link or gets
     * a fresh one.
     */
    private void forgetIfUnadvertised(DonorLink link) {
        synchronized (this) {
            if (link.state() != DonorLink.State.DOWN || !link.advertisers.allLeft()) {
                return;
            }
            markRemoved(link);
        }
        LOG.info("donor " + link.name() + " forgotten: out of service, and every cluster member that advertised it left");
        forgetCopiesPlacedMeanwhile(link);
    }

    private void markRemoved(DonorLink link) {
        link.remove();
        for (PoolRef pool : pools) {
            pool.clearIdOn(link.index);
        }
    }

    private void forgetCopiesPlacedMeanwhile(DonorLink link) {
        // A readmission that was under way may have put it back in service before it was marked removed and placed
        // copies on it; a removed donor is never in service again, so what it got meanwhile is forgotten now.
        int lost = 0;
        for (PoolRef pool : pools) {
            int n = pool.extents.dropDonor(link.index);
            lost += pool.spec().persistent() ? n : 0;
        }
        counters.extentsLost(lost);
    }

    /**
     * A donor's free memory, from {@code member} (null: not from the cluster); ignored and counted when another
     * member speaks for the donor.
     */
    void reportFree(InetSocketAddress address, UUID member, long freeBytes, boolean fromCluster) {
        loadsFromCluster |= fromCluster;
        DonorLink link = member == null ? find(DonorLink.addressKey(address)) : advertisedBy(member, address);
        if (link == null) {
            return;
        }
        if (member != null && !link.advertisers.speaksFor(member, link.donorId())) {
            counters.membershipEventIgnored();
            return;
        }
        loadsFromMembers |= fromCluster && member != null;
        if (fromCluster && !link.stated.admits(freeBytes)) {
            refuseLoad(link, "cluster member " + (member == null ? "(unnamed)" : member) + " published", freeBytes);
            return;
        }
        link.reportFree(freeBytes);
    }

    /**
     * What donor {@code link} said of its own memory in a STATS answered on a connection where it proved who it is.
     * Without loads from the cluster it is the load placement uses; with them it bounds them, and a published load
     * in force that is far from it gives way to it.
     */
    private void stated(DonorLink link, long capacityBytes, long freeBytes) {
        long previous = link.stated.known() ? link.stated.freeBytes() : Long.MAX_VALUE;
        link.stated.record(capacityBytes, freeBytes);
        long reported = link.reportedFreeBytes();
        if (!loadsFromCluster || (reported == previous && reported != Long.MAX_VALUE)) {
            link.reportFree(freeBytes); // the load in force is the donor's own earlier word: its newer one replaces it
        } else if (reported != Long.MAX_VALUE && !link.stated.admits(reported)) {
            refuseLoad(link, "the cluster had published", reported);
            link.reportFree(freeBytes);
        }
    }

    private void refuseLoad(DonorLink link, String source, long publishedFree) {
        counters.clusterLoadRefused();
        if (link.stated.logRefusal()) {
            LOG.warning(source + " " + publishedFree + " bytes free for donor " + link.name() + ", which said "
                + link.stated.freeBytes() + " in its own STATS: more than the " + link.stated.boundBytes()
                + " bytes allowed apart (a forged load, or one far out of date); refused, the donor's own stands"
                + " (further refusals are counted in cluster_loads_refused)");
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

    /**
     * Creates a pool on every donor in service and registers it (the caller's thread waits, holding no monitor). A
     * donor that came into service meanwhile gets it too: the set of donors to make it on is taken again, under the
     * admission monitor, until none is missing, and the pool is registered there.
     */
    void create(PoolRef pool) {
        while (true) {
            List<DonorLink> targets = new ArrayList<>();
            synchronized (admission) {
                for (int d = 0; d < linkCount; d++) {
                    if (links[d].isUp() && pool.idOn(d) == PoolRef.NO_POOL) {
                        targets.add(links[d]);
                    }
                }
                if (targets.isEmpty()) {
                    pools.add(pool);
                    return;
                }
            }
            for (DonorLink link : targets) {
                try {
                    pool.setIdOn(link, ClientThreads.join(createOn(link, pool.spec())));
                } catch (DonorUnavailableException e) {
                    takeOutOfService(link, e.getMessage());
                }
            }
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
    CompletableFuture<Integer> createOn(DonorLink link, dev.pagepool.protocol.PoolSpec spec) {
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

    /**
     * Destroys the pool on every donor; returns the pages removed, counting every copy. It is unregistered first,
     * under the admission monitor, and destroyed after, with no monitor held: a readmission under way destroys what
     * it made of it itself.
     */
    long destroy(PoolRef pool) {
        int[] ids = new int[MAX_DONORS];
        int n;
        synchronized (admission) {
            pool.markDestroyed();
            pools.remove(pool);
            n = linkCount;
            for (int d = 0; d < n; d++) {
                ids[d] = links[d].isUp() ? pool.idOn(d) : PoolRef.NO_POOL;
                pool.clearIdOn(d);
            }
        }
        long removed = 0;
        for (int d = 0; d < n; d++) {
            int id = ids[d];
            if (id != PoolRef.NO_POOL) {
                try {
                    removed += ClientThreads.join(connection(links[d]).thenCompose(c -> FrameCalls.destroyPool(c, id)));
                } catch (DonorUnavailableException e) {
                    takeOutOfService(links[d], e.getMessage());
                }
            }
        }
        return removed;
    }

    // ---------------------------------------------------------------- connections

    /**
     * A connection to an UP donor for one request; never waits. A connection the donor closed (idle, say) is
     * opened again first; if the donor meanwhile lost this client's pools (it restarted, or a shared pool came
     * back under another id), it is taken out of service instead.
     */
    @Override
    public CompletableFuture<DonorWire> connection(DonorLink link) {
        if (!link.isUp()) {
            return CompletableFuture.failedFuture(new DonorUnavailableException("donor " + link.name() + " is out of service"));
        }
        int c = link.pickSlot();
        DonorConnection conn = link.slot(c);
        if (conn != null && conn.isOpen()) {
            return CompletableFuture.completedFuture(conn);
        }
        return link.reopen(c, connector, fresh -> poolCheck.verify(link, fresh)).<DonorWire>thenApply(fresh -> fresh)
            .whenComplete((fresh, error) -> {
                if (error != null) {
                    failed(link, error);
                }
            });
    }

    // ---------------------------------------------------------------- out of service and back

    /**
     * Takes a donor out of service. Its copies are forgotten at once (reads go elsewhere; extents left without a
     * copy are lost) before its connections are closed, and it comes back only through a {@link Readmission}.
     */
    void takeOutOfService(DonorLink link, String reason) {
        int lostExtents = 0;
        // One at a time, and callers wait for the drop to finish: a request that failed on the same donor must not
        // be placed again while the map still names it.
        synchronized (downLock) {
            if (!link.enterDown()) {
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
        closeOtherWires.accept(link);
    }

    /**
     * A donor stopped answering: it becomes suspect. Its complete copies stay on the map, neither read nor written
     * until it answers again; its filling copies are given up (their copying cannot finish). Its connections are
     * closed, so the requests under way on them fail now and go to the other copies. Never waits.
     */
    void treatAsSuspect(DonorLink link, String reason) {
        synchronized (downLock) {
            if (!link.enterSuspect()) {
                return;
            }
            for (PoolRef pool : pools) {
                pool.extents.dropFillingOn(link.index);
            }
        }
        LOG.log(Level.WARNING, "donor " + link.name() + " suspect: " + reason + "; its copies are kept until it answers, "
            + "for at most " + config.stallTimeout().toMillis() + " ms");
        link.closeConnections();
        closeOtherWires.accept(link);
        // Counted once the connections it had are closed: whoever sees the count and goes on (a test stepping the
        // clock to the readmission) cannot have this close take the readmission's new connections.
        counters.donorSuspect();
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
        Throwable cause = PagePoolException.causeOf(error);
        if (outcome == CopyFailure.CALLERS) {
            return outcome;
        }
        if (pool.spec().shared() || (outcome == CopyFailure.GONE && CopyFailure.wholeDonor(cause))) {
            // A shared pool has no map of copies to keep: its donor goes, as does one that is gone as a whole.
            takeOutOfService(link, cause.getMessage());
        } else if (outcome == CopyFailure.GONE) {
            dropCopies(pool, link.index, entryOf, picks, k);
        } else {
            if (changing) {
                markStale(pool, link.index, entryOf, indexes, picks, k);
            }
            if (CopyFailure.silent(cause)) {
                treatAsSuspect(link, cause.getMessage());
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

    /**
     * Reads the NO_SUCH_POOL answers a call got for the pages {@code positions[0..m)} of {@code pool}, once every
     * copy answered: {@code noPool[i]}, by donor bit, the copies of page i that answered it (read under
     * {@code lock}, the call's own). A page whose every copy asked answered it ({@code everyCopy}) means the pool is
     * not the caller's (another client's, or destroyed): the exception the call fails with is returned. Where
     * another copy had the pool, the donors that answered it lost it (restarted, or a lease ran out): each such
     * page is given to {@code lostElsewhere}, and those donors go out of service. Null if no page was refused.
     */
    NoSuchPoolException settleNoPool(PoolRef pool, Object lock, int[] positions, int m, long[] noPool,
                                     IntPredicate everyCopy, IntConsumer lostElsewhere) {
        NoSuchPoolException refused = null;
        long lost = 0;
        synchronized (lock) {
            for (int j = 0; j < m; j++) {
                int i = positions[j];
                if (noPool[i] == 0) {
                    continue;
                }
                if (everyCopy.test(i)) {
                    refused = new NoSuchPoolException("no donor holding the pool has it: it is not this client's, "
                        + "or it was destroyed");
                } else {
                    lost |= noPool[i];
                    lostElsewhere.accept(i);
                }
            }
        }
        lostPool(lost, pool);
        return refused;
    }

    /** The donors of {@code mask} answered NO_SUCH_POOL where another copy had the pool: they lost it. */
    void lostPool(long mask, PoolRef pool) {
        for (int d = 0; mask != 0 && d < linkCount; d++) {
            if ((mask & (1L << d)) != 0) {
                takeOutOfService(links[d], "no longer has pool " + pool.idOn(d) + " (restarted, or the lease ran out)");
            }
        }
    }

    /** A request that touched no page failed (stats, say): a silent donor is suspect, a broken one gone. */
    void failed(DonorLink link, Throwable error) {
        Throwable cause = PagePoolException.causeOf(error);
        if (cause instanceof ProtocolViolationException) {
            takeOutOfService(link, cause.getMessage());
        } else if (CopyFailure.silent(cause)) {
            treatAsSuspect(link, cause.getMessage());
        }
    }

    /**
     * Whether the freshly opened {@code link} reached a donor another link already reaches (the same id in its
     * handshake: two names of one host, say). It is then no donor of its own: it is removed, so that two copies of
     * a page never land on one process.
     */
    boolean isAlias(DonorLink link) {
        UUID id = link.donorId();
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

    CompletableFuture<Map<String, Long>> stats(DonorLink link) {
        return connection(link).thenCompose(FrameCalls::stats);
    }

    private void onDonorRequest(DonorConnection conn, FrameHeader header, ByteBuf body) {
        DonorLink link = linkOf(conn);
        if (link == null) {
            body.release();
            return;
        }
        requests.onRequest(link, conn, header, body);
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

    void probe(DonorLink link, boolean again) {
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
                takeOutOfService(link, "closed its connection and refuses new ones: " + ar.cause().getMessage());
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

    /**
     * What the conductor's duties may ask of this set, each seeing only its own narrow side of it (the watcher, the
     * load poller, a readmission), as Aeron's Sender talks to its conductor through a proxy.
     */
    private final class DutySide implements DonorWatcher.Donors, LoadPoller.Donors, Readmission.Donors {
        private final Runnable wake;

        DutySide(Runnable wake) {
            this.wake = wake;
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public int count() {
            return linkCount;
        }

        @Override
        public DonorLink link(int donor) {
            return links[donor];
        }

        @Override
        public void takeOutOfService(DonorLink link, String reason) {
            DonorSet.this.takeOutOfService(link, reason);
        }

        @Override
        public void forgetIfUnadvertised(DonorLink link) {
            DonorSet.this.forgetIfUnadvertised(link);
        }

        @Override
        public Readmission readmission(DonorLink link) {
            return new Readmission(this, pools, counters, link, wake);
        }

        @Override
        public boolean loadsFromCluster() {
            return loadsFromCluster;
        }

        @Override
        public boolean checksClusterLoads() {
            return loadsFromMembers;
        }

        @Override
        public void stated(DonorLink link, long capacityBytes, long freeBytes) {
            DonorSet.this.stated(link, capacityBytes, freeBytes);
        }

        @Override
        public CompletableFuture<Map<String, Long>> stats(DonorLink link) {
            return DonorSet.this.stats(link);
        }

        @Override
        public void failed(DonorLink link, Throwable error) {
            DonorSet.this.failed(link, error);
        }

        @Override
        public CompletableFuture<Void> open(DonorLink link) {
            return link.open(connector);
        }

        @Override
        public boolean isAlias(DonorLink link) {
            return DonorSet.this.isAlias(link);
        }

        @Override
        public CompletableFuture<String> missingPrivatePool(DonorLink link, DonorWire conn) {
            return poolCheck.missingPrivatePoolAsync(link, conn);
        }

        @Override
        public CompletableFuture<Integer> createOn(DonorLink link, dev.pagepool.protocol.PoolSpec spec) {
            return DonorSet.this.createOn(link, spec);
        }

        @Override
        public void probe(DonorLink link) {
            DonorSet.this.probe(link, false);
        }

        @Override
        public void whileNoPoolChanges(Runnable settle) {
            synchronized (admission) {
                settle.run();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (int d = 0; d < linkCount; d++) {
            links[d].closeConnections();
        }
    }
}
