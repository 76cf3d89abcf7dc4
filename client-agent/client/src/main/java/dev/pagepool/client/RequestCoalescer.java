package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns concurrent single-page puts and gets into vectored frames.
 *
 * <p>A caller on a Vert.x event loop (the NBD export, say) never leaves it: its pages join that loop's batch
 * for the current tick, and once the loop has handled every read of the tick the batch leaves, grouped by
 * (pool, operation), one vector call per group, from that same loop. Every page that arrived in one read of a
 * socket so shares one frame per donor, and nothing waits for a thread hand-off or a timer.
 *
 * <p>A call from any other thread (an application's) is handed to one event loop of the client as a task, and
 * joins that loop's batch the same way. Nothing else sits in between: the caller's page costs one hand-off to
 * the loop, which is also the thread that writes the frame, where a sender thread of the coalescer's own used to
 * cost a second. No timer and no added latency: a caller alone leaves at once in a frame of one; callers that
 * arrive while the loop is busy pile up in its task queue and leave together in its next tick. Pages handed over
 * and not yet taken by the loop are bounded by {@link #MAX_QUEUED_PAGES}; beyond it a call fails with
 * {@link BusyException} rather than letting memory grow without limit.
 */
final class RequestCoalescer {
    static final int MAX_QUEUED_PAGES = 64 * 1024;

    private record Item(boolean put, PoolRef pool, long object, int index, boolean exclusive, byte[] page, int offset,
                        long version,
                        CompletableFuture<PageStatus> future) {
    }

    /** The vector calls a batch leaves as: what the coalescer needs of the client that owns it, and nothing more. */
    interface VectorCalls {
        CompletableFuture<PageStatus[]> put(PoolRef pool, long[] objects, int[] indexes, long[] versions, PageSlots pages,
                                            int n);

        CompletableFuture<PageStatus[]> get(PoolRef pool, long[] objects, int[] indexes, int n, boolean exclusive,
                                            PageSlots dst);
    }

    private final VectorCalls calls;
    /** The loop that takes the calls of threads that are not event loops. */
    private final Context home;
    /** Pages handed to {@link #home} and not yet in its tick's batch. */
    private final AtomicInteger handedOver = new AtomicInteger();

    /** The pages an event loop gathered in its current tick; only ever touched by that loop. */
    private static final class TickBatch {
        ArrayList<Item> items = new ArrayList<>();
        ArrayList<Item> spare = new ArrayList<>();
    }

    private final ThreadLocal<TickBatch> ticks = ThreadLocal.withInitial(TickBatch::new);

    RequestCoalescer(Vertx vertx, VectorCalls calls) {
        this.calls = calls;
        this.home = vertx.getOrCreateContext();
    }

    CompletableFuture<PageStatus> put(PoolRef pool, long object, int index, byte[] page, int offset, long version) {
        if (offset < 0 || page.length - offset < Frame.PAGE_BYTES) {
            throw new IllegalArgumentException("a page is " + Frame.PAGE_BYTES + " bytes from offset " + offset
                + ", the array has " + page.length);
        }
        return enqueue(new Item(true, pool, object, index, false, page, offset, version, new CompletableFuture<>()));
    }

    CompletableFuture<PageStatus> get(PoolRef pool, long object, int index, boolean exclusive, byte[] dst, int offset) {
        if (offset < 0 || dst.length - offset < Frame.PAGE_BYTES) {
            throw new IllegalArgumentException("destination must hold " + Frame.PAGE_BYTES + " bytes from offset " + offset);
        }
        return enqueue(new Item(false, pool, object, index, exclusive, dst, offset, 0, new CompletableFuture<>()));
    }

    private CompletableFuture<PageStatus> enqueue(Item item) {
        if (Context.isOnEventLoopThread()) {
            return onThisLoop(item);
        }
        if (handedOver.incrementAndGet() > MAX_QUEUED_PAGES) {
            handedOver.decrementAndGet();
            item.future().completeExceptionally(new BusyException(MAX_QUEUED_PAGES + " pages already queued"));
            return item.future();
        }
        home.runOnContext(v -> {
            handedOver.decrementAndGet();
            onThisLoop(item);
        });
        return item.future();
    }

    private CompletableFuture<PageStatus> onThisLoop(Item item) {
        TickBatch tick = ticks.get();
        if (tick.items.size() >= MAX_QUEUED_PAGES) {
            item.future().completeExceptionally(new BusyException(MAX_QUEUED_PAGES + " pages already queued"));
            return item.future();
        }
        if (tick.items.isEmpty()) {
            // A task runs after the loop has handled the I/O of this tick: the batch then holds all of it.
            Vertx.currentContext().runOnContext(v -> sendTick(tick));
        }
        tick.items.add(item);
        return item.future();
    }

    private void sendTick(TickBatch tick) {
        ArrayList<Item> batch = tick.items;
        tick.items = tick.spare;
        tick.spare = batch;
        try {
            sendGrouped(batch);
        } finally {
            batch.clear();
        }
    }

    /** Sends a batch as one vector call per (operation, pool, flags). */
    private void sendGrouped(List<Item> batch) {
        boolean[] taken = new boolean[batch.size()];
        for (int first = 0; first < batch.size(); first++) {
            if (taken[first]) {
                continue;
            }
            Item lead = batch.get(first);
            List<Item> group = new ArrayList<>();
            for (int j = first; j < batch.size(); j++) {
                Item it = batch.get(j);
                if (!taken[j] && it.put() == lead.put() && it.pool() == lead.pool() && it.exclusive() == lead.exclusive()) {
                    taken[j] = true;
                    group.add(it);
                }
            }
            sendGroup(group);
        }
    }

    /**
     * Sends one group (same operation, pool and flags) as a vector call. Pages go into the frame straight from
     * the callers' arrays, and replies straight back into them.
     */
    private void sendGroup(List<Item> group) {
        int n = group.size();
        long[] objects = new long[n];
        int[] indexes = new int[n];
        byte[][] pages = new byte[n][];
        int[] offsets = new int[n];
        long[] versions = new long[n];
        for (int i = 0; i < n; i++) {
            Item it = group.get(i);
            objects[i] = it.object();
            indexes[i] = it.index();
            pages[i] = it.page();
            offsets[i] = it.offset();
            versions[i] = it.version();
        }
        Item lead = group.get(0);
        PageSlots slots = PageSlots.separate(pages, offsets);
        CompletableFuture<PageStatus[]> call = lead.put()
            ? calls.put(lead.pool(), objects, indexes, versions, slots, n)
            : calls.get(lead.pool(), objects, indexes, n, lead.exclusive(), slots);
        call.whenComplete((statuses, error) -> completeAll(group, statuses, error));
    }

    private static void completeAll(List<Item> group, PageStatus[] statuses, Throwable error) {
        for (int i = 0; i < group.size(); i++) {
            complete(group.get(i), statuses == null ? null : statuses[i], error);
        }
    }

    private static void complete(Item it, PageStatus status, Throwable error) {
        if (error != null) {
            it.future().completeExceptionally(PagePoolException.causeOf(error));
        } else {
            it.future().complete(status);
        }
    }

}
