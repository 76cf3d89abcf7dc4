package dev.pagepool.agent.swap;

import dev.pagepool.agent.state.AgentState;
import dev.pagepool.agent.state.SlotPlaces;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageSlots;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.nbd.BlockDevice;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A swap device of 4 KiB slots kept in the cluster's RAM, with the local disk file as the fallback.
 *
 * <p>A slot lives in the cluster (a private persistent pool, every page on {@code replicas} donors), in the disk
 * file, or nowhere. A write goes to the cluster; what the cluster rejects goes to disk; a page a donor hands back
 * goes to disk; a slot written as zeros or trimmed lives nowhere and reads as zeros. Reads go to wherever the
 * slot lives. Swap holds nothing across a reboot, but it outlives the agent: with an {@link AgentState} (a
 * memory-mapped file on tmpfs) the slot map and the pool's map of copies live in that file, and an agent started
 * again on it resumes the same device, its pool on the donors and its disk file as they were.
 *
 * <p>One order per slot ({@link SlotOrder}): writes, trims and hand-backs of a slot run one after the other, so
 * overlapping NBD requests never leave copies disagreeing. Every write carries a version (a counter per slot, one
 * more than its last write's), which the donor keeps with the page and sends back with a hand-back; a handed-back
 * page is taken only from a copy the pool's map trusts with it, only if it is the version of the slot's last
 * write, and only after the slot is claimed, so an older page never overtakes a newer write.
 *
 * <p>A slot the cluster lost (every copy gone) fails its read with an I/O error: the kernel then kills the
 * process that owned the page, which is what a failing swap disk does too. Never wrong data.
 */
public final class SwapStore implements BlockDevice, AutoCloseable {
    /** Object id of the swap device's pages in its pool; the slot number is the page index. */
    static final long OBJECT = 0;
    /** A read that misses a slot the map places in the cluster is tried again this often before it is lost. */
    private static final int READ_ATTEMPTS = 3;
    private static final byte[] ZEROS = new byte[BLOCK_BYTES];

    static {
        if (BLOCK_BYTES != Frame.PAGE_BYTES) {
            throw new AssertionError("an NBD block of the swap device is one page of the pool");
        }
    }

    private final PagePoolClient client;
    private final PoolRef pool;
    private final SlotMap slots;
    private final SlotOrder order = new SlotOrder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final SwapFile disk;
    private final ExecutorService diskIo;
    private final SwapCounters counters = new SwapCounters();

    private SwapStore(PagePoolClient client, PoolRef pool, SlotPlaces places, Path diskFile, boolean fresh) {
        this.client = client;
        this.pool = pool;
        this.slots = new SlotMap(places);
        this.disk = new SwapFile(diskFile, fresh);
        this.diskIo = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "pagepool-swap-disk");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A swap device of {@code sizeBytes} (a multiple of 4 KiB) on a new persistent pool of {@code client} with
     * {@code replicas} copies (0: the client's default), falling back to {@code diskFile}; its state lives in this
     * process only.
     */
    public static SwapStore open(PagePoolClient client, long sizeBytes, Path diskFile, int replicas) {
        checkSize(sizeBytes);
        PoolSpec spec = PoolSpec.privatePool(true);
        PoolRef pool = replicas == 0 ? client.newPool(spec) : client.newPool(spec, replicas);
        return attach(client, new SwapStore(client, pool, SlotPlaces.inProcess(sizeBytes / BLOCK_BYTES), diskFile, true));
    }

    /**
     * A swap device whose state lives in {@code state}: a new one on a new pool when the state was made now, or
     * the device a previous agent served, resumed (its pool on the donors, its slots, its disk file) when the state
     * was left by it. The client must use the state's client id.
     */
    public static SwapStore open(PagePoolClient client, AgentState state, AgentState.Export export) {
        checkSize(export.sizeBytes());
        PoolSpec spec = PoolSpec.privatePool(true);
        PoolRef pool = state.resumed()
            ? client.resumePool(spec, state.replicas(), state.pool())
            : client.newPool(spec, state.replicas(), state.pool());
        return attach(client, new SwapStore(client, pool, state.slots(), export.disk(), !state.resumed()));
    }

    private static void checkSize(long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes % BLOCK_BYTES != 0) {
            throw new IllegalArgumentException("the swap size must be a positive multiple of 4 KiB, got " + sizeBytes);
        }
        if (sizeBytes / BLOCK_BYTES > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("a swap device holds at most 2^32 slots (16 TiB)");
        }
    }

    /** This agent is the disk-writing peer of its own pool: donors under pressure give its pages back here. */
    private static SwapStore attach(PagePoolClient client, SwapStore store) {
        PoolRef pool = store.pool;
        client.onHandback(pool, (p, object, index, version, page) -> object == OBJECT
            && store.takeHandedBack(index & 0xFFFFFFFFL, version, page));
        return store;
    }

    @Override
    public long blocks() {
        return slots.slots();
    }

    public PoolRef pool() {
        return pool;
    }

    public SwapCounters counters() {
        return counters;
    }

    /** Slots in each place right now: nowhere, cluster, disk. */
    public long[] census() {
        return slots.census();
    }

    /** Requests under way: reads, writes and trims not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public CompletableFuture<Void> read(long first, int count, byte[] dst, int offset) {
        checkRange(first, count);
        counters.read(count);
        return tracked(readSlots(first, count, dst, offset, 0));
    }

    private CompletableFuture<Void> readSlots(long first, int count, byte[] dst, int offset, int attempt) {
        int[] clusterAt = null;
        int[] clusterIdx = null;
        int inCluster = 0;
        List<CompletableFuture<Void>> parts = null;
        for (int j = 0; j < count; j++) {
            long slot = first + j;
            int at = offset + j * BLOCK_BYTES;
            switch (slots.place(slot)) {
                case SlotMap.CLUSTER -> {
                    if (clusterAt == null) {
                        clusterAt = new int[count];
                        clusterIdx = new int[count];
                    }
                    clusterAt[inCluster] = at;
                    clusterIdx[inCluster++] = (int) slot;
                }
                case SlotMap.DISK -> {
                    parts = parts == null ? new ArrayList<>() : parts;
                    parts.add(CompletableFuture.runAsync(() -> readDisk(slot, dst, at), diskIo));
                }
                default -> Arrays.fill(dst, at, at + BLOCK_BYTES, (byte) 0);
            }
        }
        if (inCluster > 0) {
            parts = parts == null ? new ArrayList<>() : parts;
            parts.add(readCluster(clusterIdx, clusterAt, inCluster, dst, attempt));
        }
        return parts == null ? CompletableFuture.completedFuture(null)
            : CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
    }

    private CompletableFuture<Void> readCluster(int[] idx, int[] at, int n, byte[] dst, int attempt) {
        long[] seen = new long[n];
        for (int i = 0; i < n; i++) {
            seen[i] = pool.versionOf(OBJECT, idx[i]);
        }
        // A lone page goes through the client's coalescer: concurrent single-block requests (a queue depth of 32
        // 4 KiB reads, as the kernel sends while swapping in) then share frames instead of taking one each.
        CompletableFuture<PageStatus[]> got = n == 1
            ? client.getAsync(pool, OBJECT, idx[0], false, dst, at[0]).thenApply(status -> new PageStatus[] {status})
            : client.getBatchAsync(pool, new long[n], idx, n, false, PageSlots.scattered(dst, at));
        return got.thenCompose(st -> {
            List<CompletableFuture<Void>> again = null;
            for (int i = 0; i < n; i++) {
                if (st[i] == PageStatus.OK) {
                    continue;
                }
                long slot = idx[i] & 0xFFFFFFFFL;
                boolean raced = order.busy(slot) || pool.versionOf(OBJECT, idx[i]) != seen[i]
                    || slots.place(slot) != SlotMap.CLUSTER;
                if (!raced && attempt + 1 >= READ_ATTEMPTS) {
                    counters.loseOne();
                    return CompletableFuture.failedFuture(new SlotLostException("slot " + slot + " is lost: "
                        + st[i] + " from every donor that held it"));
                }
                // Written, trimmed or handed back while the read was under way (or a miss to confirm): read it
                // again where it lives once what is in flight on it is done.
                int offset = at[i];
                again = again == null ? new ArrayList<>() : again;
                again.add(order.settled(slot).thenCompose(v -> readSlots(slot, 1, dst, offset, attempt + 1)));
            }
            return again == null ? CompletableFuture.completedFuture(null)
                : CompletableFuture.allOf(again.toArray(new CompletableFuture<?>[0]));
        });
    }

    @Override
    public CompletableFuture<Void> write(long first, int count, byte[] src, int offset) {
        checkRange(first, count);
        return ordered(first, count, () -> writeSlots(first, count, src, offset));
    }

    private CompletableFuture<Void> writeSlots(long first, int count, byte[] src, int offset) {
        int[] pageAt = new int[count];
        int[] idx = new int[count];
        int data = 0;
        int[] zeroIdx = null;
        int zeros = 0;
        for (int j = 0; j < count; j++) {
            long slot = first + j;
            int at = offset + j * BLOCK_BYTES;
            if (Arrays.equals(src, at, at + BLOCK_BYTES, ZEROS, 0, BLOCK_BYTES)) {
                if (slots.place(slot) == SlotMap.CLUSTER) {
                    zeroIdx = zeroIdx == null ? new int[count] : zeroIdx;
                    zeroIdx[zeros++] = (int) slot;
                } else {
                    slots.setPlace(slot, SlotMap.NOWHERE);
                }
                continue;
            }
            pageAt[data] = at;
            idx[data++] = (int) slot;
        }
        counters.written(count, count - data);
        List<CompletableFuture<Void>> parts = new ArrayList<>(2);
        if (zeros > 0) {
            parts.add(forget(zeroIdx, zeros));
        }
        if (data > 0) {
            int n = data;
            // Each slot's next version: the slots are this write's (their order) until it completes.
            CompletableFuture<PageStatus[]> put;
            if (n == 1) {
                put = client.putAsync(pool, OBJECT, idx[0], src, pageAt[0], pool.nextVersion(OBJECT, idx[0]))
                    .thenApply(status -> new PageStatus[] {status});
            } else {
                long[] versions = new long[n];
                pool.nextVersions(OBJECT, idx, versions, n);
                put = client.putBatchAsync(pool, new long[n], idx, PageSlots.scattered(src, pageAt), versions, n);
            }
            // A put that failed as a whole (no donor reachable) is a put the cluster rejected: the disk takes it.
            parts.add(put
                .exceptionally(error -> null)
                .thenCompose(st -> placeRejected(st, idx, pageAt, n, src)));
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
    }

    /** Pages the cluster took are in the cluster; the others (all of them when {@code st} is null) go to disk. */
    private CompletableFuture<Void> placeRejected(PageStatus[] st, int[] idx, int[] at, int n, byte[] src) {
        List<CompletableFuture<Void>> toDisk = null;
        for (int i = 0; i < n; i++) {
            long slot = idx[i] & 0xFFFFFFFFL;
            if (st != null && st[i] == PageStatus.OK) {
                slots.setPlace(slot, SlotMap.CLUSTER);
                continue;
            }
            int offset = at[i];
            toDisk = toDisk == null ? new ArrayList<>() : toDisk;
            toDisk.add(CompletableFuture.runAsync(() -> {
                try {
                    disk.write(slot, ByteBuffer.wrap(src, offset, BLOCK_BYTES));
                    slots.setPlace(slot, SlotMap.DISK);
                    counters.spilled();
                } catch (RuntimeException e) {
                    // The cluster copy is gone (a rejected put removes the older version) and the disk failed.
                    slots.setPlace(slot, SlotMap.NOWHERE);
                    throw e;
                }
            }, diskIo));
        }
        return toDisk == null ? CompletableFuture.completedFuture(null)
            : CompletableFuture.allOf(toDisk.toArray(new CompletableFuture<?>[0]));
    }

    @Override
    public CompletableFuture<Void> trim(long first, int count) {
        checkRange(first, count);
        return ordered(first, count, () -> trimSlots(first, count));
    }

    private CompletableFuture<Void> trimSlots(long first, int count) {
        int[] idx = new int[count];
        int inCluster = 0;
        for (int j = 0; j < count; j++) {
            long slot = first + j;
            if (slots.place(slot) == SlotMap.CLUSTER) {
                idx[inCluster++] = (int) slot;
            } else {
                slots.setPlace(slot, SlotMap.NOWHERE);
            }
        }
        counters.trimmed(count);
        return inCluster == 0 ? CompletableFuture.completedFuture(null) : forget(idx, inCluster);
    }

    /**
     * Slots that now read as zeros leave the cluster, so donors free their memory. The slots keep their order
     * until the flush is done: the flush must not overtake a later write of the same slot.
     */
    private CompletableFuture<Void> forget(int[] idx, int n) {
        return client.flushPagesAsync(pool, new long[n], idx, n).handle((st, error) -> {
            for (int i = 0; i < n; i++) {
                slots.setPlace(idx[i] & 0xFFFFFFFFL, SlotMap.NOWHERE);
            }
            return null; // a copy whose flush failed is forgotten by the client: it is never read again
        });
    }

    /** Runs {@code operation} on the slots once every earlier write, trim or hand-back of them is done. */
    private CompletableFuture<Void> ordered(long first, int count, java.util.function.Supplier<CompletableFuture<Void>> operation) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> result = order.enter(first, count, done).thenCompose(v -> operation.get());
        result.whenComplete((v, error) -> done.complete(null));
        return tracked(result);
    }

    private CompletableFuture<Void> tracked(CompletableFuture<Void> request) {
        inFlight.incrementAndGet();
        request.whenComplete((v, error) -> inFlight.decrementAndGet());
        return request;
    }

    @Override
    public CompletableFuture<Void> flush() {
        // Cluster writes are acknowledged by every copy before they complete; the disk needs its sync.
        return CompletableFuture.runAsync(disk::sync, diskIo);
    }

    /**
     * A page a donor hands back, with the version it holds: written to the disk file, and the slot moves there.
     * The slot is claimed first; refused (the donor keeps the page and offers it again) while a write, trim or
     * another hand-back of the slot is under way. A page that is not the version of the slot's last acknowledged
     * write, or of a slot that no longer lives in the cluster, is stale: taken without being written, so the donor
     * frees it (a donor frees a page only if it still holds the very version it sent).
     */
    public boolean takeHandedBack(long slot, long version, ByteBuffer page) {
        if (slot < 0 || slot >= slots.slots()) {
            return true; // not a slot of this device: nothing to keep, let the donor free it
        }
        CompletableFuture<Void> claim = new CompletableFuture<>();
        if (!order.claim(slot, claim)) {
            return false;
        }
        try {
            if (slots.place(slot) != SlotMap.CLUSTER || !PoolRef.sameVersion(pool.versionOf(OBJECT, (int) slot), version)) {
                counters.staleHandBack();
                return true;
            }
            disk.write(slot, page);
            slots.setPlace(slot, SlotMap.DISK);
            counters.handBack();
            return true;
        } finally {
            order.release(slot, claim);
        }
    }

    /** Waits, at most {@code millis}, until no request is under way; true if none is. For a clean stop. */
    public boolean quiesce(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (inFlight.get() > 0 || order.busySlots() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    private void readDisk(long slot, byte[] dst, int at) {
        disk.read(slot, ByteBuffer.wrap(dst, at, BLOCK_BYTES));
        counters.readOneFromDisk();
    }

    private void checkRange(long first, int count) {
        if (first < 0 || count < 0 || first + count > slots.slots()) {
            throw new IllegalArgumentException("blocks " + first + ".." + (first + count) + " outside a device of "
                + slots.slots() + " blocks");
        }
    }

    @Override
    public void close() {
        diskIo.shutdown();
        disk.close();
    }
}
