package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * Brings one donor (back) into service, as steps of the {@link ClientConductor}: open, fence, check its pools, set
 * up each pool, then in service. Each step sends its request and returns; the reply only completes the step's
 * future, and the next {@link #step} acts on it. So no thread waits for the donor and no monitor is held while a
 * request is out: pools are made and destroyed meanwhile, and the last step, under the admission monitor and with no
 * I/O, sees what changed and sets those up too before the donor serves again.
 *
 * <p>A suspect donor is fenced first (no write still queued on a connection the client gave up can land afterwards)
 * and its private pools are checked: intact, its copies serve again, with the pages written meanwhile stale until
 * the re-replicator copies them; missing (it restarted, or its lease ran out), it is gone. A donor that was gone has
 * whatever it holds of this client's private pools wiped first: its pages may be older than what was written
 * elsewhere since. A shared pool is left alone (other clients use it) and joined again, with the flushes it is owed.
 */
final class Readmission {
    private static final Logger LOG = Logger.getLogger(Readmission.class.getName());

    private enum Step { OPEN, OPENED, FENCED, CHECKED, POOLS, SETTLE, OWED, DONE }

    /**
     * What a readmission may ask of the donor set, and no more: its owner's side for it. The pools and the counters
     * are given as they are.
     */
    interface Donors {
        /** Opens the donor's connections and says HELLO on each. */
        CompletableFuture<Void> open(DonorLink link);

        /** Whether the freshly opened {@code link} reaches a donor another link reaches; it is then removed. */
        boolean isAlias(DonorLink link);

        /** Null if the donor holds every private pool it should, else what is missing. */
        CompletableFuture<String> missingPrivatePool(DonorLink link, DonorWire conn);

        CompletableFuture<Integer> createOn(DonorLink link, dev.pagepool.protocol.PoolSpec spec);

        void takeOutOfService(DonorLink link, String reason);

        /** A bare connect to the donor's port: one that refuses it is gone, not frozen. */
        void probe(DonorLink link);

        /**
         * Runs {@code settle} holding the monitor under which pools are made and destroyed: what it sees of the
         * pools does not change until it returns. {@code settle} does no I/O.
         */
        void whileNoPoolChanges(Runnable settle);
    }

    private final Donors donors;
    private final ClientPools pools;
    private final ClientCounters counters;
    private final DonorLink link;
    private final DonorLink.State startedAs;
    private final boolean suspect;
    private final Runnable wake;
    /** Pools this readmission has set up on the donor (or found intact there). */
    private final Set<PoolRef> done = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Pools still to set up on the donor, or to destroy there (made or destroyed while this ran). */
    private final ArrayDeque<PoolRef> remaining = new ArrayDeque<>();
    private Step step = Step.OPEN;
    private CompletableFuture<?> pending;
    private DonorConnection conn;

    Readmission(Donors donors, ClientPools pools, ClientCounters counters, DonorLink link, Runnable wake) {
        this.donors = donors;
        this.pools = pools;
        this.counters = counters;
        this.link = link;
        this.startedAs = link.state();
        this.suspect = startedAs == DonorLink.State.SUSPECT;
        this.wake = wake;
    }

    boolean finished() {
        return step == Step.DONE;
    }

    /** Moves on if the request of the last step was answered; returns 1 if it did something, 0 if still waiting. */
    int step() {
        if (step == Step.DONE || (pending != null && !pending.isDone())) {
            return 0;
        }
        CompletableFuture<?> answered = pending;
        pending = null;
        if (answered != null && answered.isCompletedExceptionally()) {
            failed(answered);
            return 1;
        }
        switch (step) {
            case OPEN -> open();
            case OPENED -> opened();
            case FENCED -> await(Step.CHECKED, donors.missingPrivatePool(link, conn));
            case CHECKED -> checked((String) answered.join());
            case POOLS -> nextPool();
            case SETTLE -> settle();
            case OWED -> inService();
            default -> throw new IllegalStateException(step.name());
        }
        return 1;
    }

    private void open() {
        if (link.isRemoved()) {
            step = Step.DONE;
            return;
        }
        await(Step.OPENED, donors.open(link));
    }

    private void opened() {
        if (donors.isAlias(link)) {
            step = Step.DONE;
            return;
        }
        conn = link.slot(0);
        if (conn == null || link.state() != startedAs) {
            // Its connections were closed, or it changed state, between the open and this step: nothing was sent
            // on them yet, and the next readmission opens afresh.
            LOG.info("readmission of donor " + link.name() + " ends: its connections closed, or it turned "
                + link.state() + ", as they opened");
            link.closeConnections();
            step = Step.DONE;
            return;
        }
        if (suspect) {
            await(Step.FENCED, FrameCalls.fence(conn));
        } else {
            step = Step.SETTLE;
        }
    }

    private void checked(String missing) {
        if (missing != null) {
            donors.takeOutOfService(link, missing);
            link.closeConnections();
            step = Step.DONE;
            return;
        }
        for (PoolRef pool : pools) {
            if (pool.idOn(link.index) != PoolRef.NO_POOL && !pool.spec().shared()) {
                done.add(pool); // checked intact: its copies serve again as they are
            }
        }
        step = Step.SETTLE;
    }

    private void nextPool() {
        PoolRef pool = remaining.poll();
        if (pool == null) {
            step = Step.SETTLE;
            return;
        }
        done.add(pool);
        await(Step.POOLS, pool.destroyed() ? forget(pool) : setUp(pool));
    }

    /**
     * Under the admission monitor, with no request out: what changed while the pools were set up. A pool made
     * meanwhile is set up too, a pool destroyed meanwhile destroyed here too; with nothing left to do the donor is
     * in service, before the monitor is let go, so a pool made next is made on it by its maker.
     */
    private void settle() {
        if (link.state() != startedAs) {
            // Taken out of service, or removed, while this ran: what it set up is for the next readmission.
            link.closeConnections();
            step = Step.DONE;
            return;
        }
        donors.whileNoPoolChanges(this::takeWhatChanged);
        if (remaining.isEmpty()) {
            // What was owed while the pools were set up.
            await(Step.OWED, flushOwedEverywhere());
        } else {
            step = Step.POOLS;
            nextPool();
        }
    }

    private void takeWhatChanged() {
        for (PoolRef pool : pools) {
            if (!done.contains(pool)) {
                remaining.add(pool);
            }
        }
        for (PoolRef pool : done) {
            if (pool.destroyed() && pool.idOn(link.index) != PoolRef.NO_POOL) {
                remaining.add(pool);
            }
        }
        if (remaining.isEmpty()) {
            link.markUp();
        }
    }

    private void inService() {
        step = Step.DONE;
        if (suspect) {
            counters.donorReattached();
            LOG.info("donor " + link.name() + " answers again with this client's pools intact: in service");
        } else {
            counters.donorReadmitted();
            LOG.info("donor " + link.name() + " in service");
        }
    }

    private void failed(CompletableFuture<?> answered) {
        Throwable cause = PagePoolException.causeOf(answered.handle((v, e) -> e).join());
        boolean afterInService = step == Step.OWED;
        LOG.info("readmission of donor " + link.name() + " failed before " + step + ": " + cause);
        step = Step.DONE;
        if (afterInService) {
            // Only the flushes owed after it was back in service failed.
            donors.takeOutOfService(link, "flushing what it owes failed: " + cause.getMessage());
            return;
        }
        link.closeConnections();
        link.attemptFailed();
        if (suspect) {
            donors.probe(link); // a donor whose port refuses connections is not frozen but gone
        }
    }

    private void await(Step next, CompletableFuture<?> request) {
        step = next;
        pending = request;
        request.whenComplete((v, e) -> wake.run());
    }

    /** Wipes what the donor holds of the pool when it may be older than the rest, joins it, and flushes what is owed. */
    private CompletableFuture<Void> setUp(PoolRef pool) {
        int old = pool.idOn(link.index);
        CompletableFuture<Void> wiped = CompletableFuture.completedFuture(null);
        if (old != PoolRef.NO_POOL && !pool.spec().shared()) {
            wiped = destroyIgnoringGone(old);
        } else if (old != PoolRef.NO_POOL && pool.owedFlushes().overflowed(link.index)) {
            // Too much was put elsewhere meanwhile to flush page by page: the pool's copy there goes.
            pool.owedFlushes().take(link.index);
            wiped = destroyIgnoringGone(old);
        }
        return wiped.thenCompose(v -> donors.createOn(link, pool.spec()))
            .thenCompose(id -> {
                pool.setIdOn(link, id);
                return flushOwed(pool);
            });
    }

    /** A pool destroyed while this readmission made it on the donor: it goes there too. */
    private CompletableFuture<Void> forget(PoolRef pool) {
        int id = pool.idOn(link.index);
        pool.clearIdOn(link.index);
        return id == PoolRef.NO_POOL ? CompletableFuture.completedFuture(null) : destroyIgnoringGone(id);
    }

    private CompletableFuture<Void> destroyIgnoringGone(int id) {
        return FrameCalls.destroyPool(conn, id).handle((removed, error) -> {
            if (error != null && !(PagePoolException.causeOf(error) instanceof NoSuchPoolException)) {
                throw new java.util.concurrent.CompletionException(PagePoolException.causeOf(error));
            }
            return null; // gone already (restarted, or its lease ran out): nothing stale to wipe
        });
    }

    private CompletableFuture<Void> flushOwedEverywhere() {
        CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
        for (PoolRef pool : pools) {
            all = all.thenCompose(v -> flushOwed(pool));
        }
        return all;
    }

    /**
     * Flushes on the donor the shared pool's pages this client put or flushed while it was out of service: it may
     * hold older versions of them. One frame after the other; what a failed frame took is no longer known, so the
     * pool there is wiped next time.
     */
    private CompletableFuture<Void> flushOwed(PoolRef pool) {
        if (!pool.spec().shared()) {
            return CompletableFuture.completedFuture(null);
        }
        List<long[]> owed = pool.owedFlushes().take(link.index);
        int id = pool.idOn(link.index);
        CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
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
            sent = sent.thenCompose(v -> FrameCalls.flush(conn, id, objects, indexes, picks, k, (i, s) -> { }));
        }
        return sent.whenComplete((v, error) -> {
            if (error != null) {
                pool.owedFlushes().overflow(link.index);
            }
        });
    }
}
