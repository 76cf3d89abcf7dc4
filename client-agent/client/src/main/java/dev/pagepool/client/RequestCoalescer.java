package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns concurrent single-page puts and gets into vectored frames.
 *
 * <p>A caller on a Vert.x event loop (the NBD export, say) never leaves it: its pages join that loop's batch
 * for the current tick, and once the loop has handled every read of the tick the batch leaves, grouped by
 * (pool, operation), one vector call per group, from that same loop. Every page that arrived in one read of a
 * socket so shares one frame per donor, and nothing waits for a thread hand-off or a timer.
 *
 * <p>Other callers enqueue and return a future; one sender thread drains the queue, groups what it found the same
 * way and sends. No timer and no added latency: when a single caller is alone, its page leaves at once in a frame
 * of one; when many are calling, pages pile up while the previous frame is on the wire and leave together in the
 * next. The queue is bounded by {@link #MAX_QUEUED_PAGES}; beyond it a caller's call fails with
 * {@link BusyException} rather than letting memory grow without limit.
 */
final class RequestCoalescer implements AutoCloseable {
    static final int MAX_QUEUED_PAGES = 64 * 1024;

    private record Item(boolean put, PoolRef pool, long object, int index, boolean exclusive, byte[] page, int offset,
                        long version,
                        CompletableFuture<PageStatus> future) {
    }

    private final PagePoolClient client;
    private final ConcurrentLinkedQueue<Item> queue = new ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pagepool-coalescer");
        t.setDaemon(true);
        return t;
    });

    /** The pages an event loop gathered in its current tick; only ever touched by that loop. */
    private static final class TickBatch {
        ArrayList<Item> items = new ArrayList<>();
        ArrayList<Item> spare = new ArrayList<>();
    }

    private final ThreadLocal<TickBatch> ticks = ThreadLocal.withInitial(TickBatch::new);

    RequestCoalescer(PagePoolClient client) {
        this.client = client;
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
        if (queued.incrementAndGet() > MAX_QUEUED_PAGES) {
            queued.decrementAndGet();
            item.future().completeExceptionally(new BusyException(MAX_QUEUED_PAGES + " pages already queued"));
            return item.future();
        }
        queue.add(item);
        if (draining.compareAndSet(false, true)) {
            sender.execute(this::drain);
        }
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

    private void drain() {
        while (true) {
            List<Item> batch = new ArrayList<>();
            for (Item i; (i = queue.poll()) != null; ) {
                batch.add(i);
            }
            queued.addAndGet(-batch.size());
            if (!batch.isEmpty()) {
                awaitRound(sendGrouped(batch));
            }
            draining.set(false);
            // A caller may have enqueued after the last poll but before the flag was cleared.
            if (queue.isEmpty() || !draining.compareAndSet(false, true)) {
                return;
            }
        }
    }

    /** Sends a batch as one vector call per (operation, pool, flags); returns the calls. */
    private List<CompletableFuture<?>> sendGrouped(List<Item> batch) {
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
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
            inFlight.add(sendGroup(group));
        }
        return inFlight;
    }

    /** The sender thread waits for a round's replies before draining again: that wait lets the next round grow. */
    private void awaitRound(List<CompletableFuture<?>> inFlight) {
        try {
            CompletableFuture.allOf(inFlight.toArray(new CompletableFuture<?>[0]))
                .get(client.config().requestTimeout().toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Each item's future carries its own failure.
        }
    }

    /**
     * Sends one group (same operation, pool and flags) as a vector call. Pages go into the frame straight from
     * the callers' arrays, and replies straight back into them.
     */
    private CompletableFuture<?> sendGroup(List<Item> group) {
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
            ? client.putVersioned(lead.pool(), objects, indexes, versions, slots, n)
            : client.getBatchAsync(lead.pool(), objects, indexes, n, lead.exclusive(), slots);
        return call.whenComplete((statuses, error) -> completeAll(group, statuses, error));
    }

    private static void completeAll(List<Item> group, PageStatus[] statuses, Throwable error) {
        for (int i = 0; i < group.size(); i++) {
            complete(group.get(i), statuses == null ? null : statuses[i], error);
        }
    }

    private static void complete(Item it, PageStatus status, Throwable error) {
        if (error != null) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
            it.future().completeExceptionally(cause);
        } else {
            it.future().complete(status);
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
    }
}
