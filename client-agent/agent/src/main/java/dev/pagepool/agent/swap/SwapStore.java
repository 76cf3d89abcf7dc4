package dev.pagepool.agent.swap;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageSlots;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.nbd.BlockDevice;
import dev.pagepool.protocol.PoolSpec;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A swap device of 4 KiB slots kept in the cluster's RAM, with the local disk file as the fallback.
 *
 * <p>A slot lives in the cluster (a private persistent pool, every page on {@code replicas} donors), in the disk
 * file, or nowhere. A write goes to the cluster; what the cluster rejects goes to disk; a page a donor hands back
 * goes to disk; a slot written as zeros or trimmed lives nowhere and reads as zeros. Reads go to wherever the
 * slot lives. The device starts empty by design: swap holds nothing across a reboot, and the pool and the file
 * are created afresh each time the agent starts.
 *
 * <p>A slot the cluster lost (every copy gone) fails its read with an I/O error: the kernel then kills the
 * process that owned the page, which is what a failing swap disk does too. Never wrong data.
 */
public final class SwapStore implements BlockDevice, AutoCloseable {
    /** Object id of the swap device's pages in its pool; the slot number is the page index. */
    static final long OBJECT = 0;
    private static final byte[] ZEROS = new byte[BLOCK_BYTES];

    private final PagePoolClient client;
    private final PoolRef pool;
    private final SlotMap slots;
    private final SwapFile disk;
    private final ExecutorService diskIo;
    private final SwapCounters counters = new SwapCounters();

    private SwapStore(PagePoolClient client, PoolRef pool, long blocks, Path diskFile) {
        this.client = client;
        this.pool = pool;
        this.slots = new SlotMap(blocks);
        this.disk = new SwapFile(diskFile, blocks);
        this.diskIo = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "pagepool-swap-disk");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A swap device of {@code sizeBytes} (a multiple of 4 KiB) on a new persistent pool of {@code client} with
     * {@code replicas} copies (0: the client's default), falling back to {@code diskFile}.
     */
    public static SwapStore open(PagePoolClient client, long sizeBytes, Path diskFile, int replicas) {
        if (sizeBytes <= 0 || sizeBytes % BLOCK_BYTES != 0) {
            throw new IllegalArgumentException("the swap size must be a positive multiple of 4 KiB, got " + sizeBytes);
        }
        if (sizeBytes / BLOCK_BYTES > 0xFFFFFFFFL) {
            throw new IllegalArgumentException("a swap device holds at most 2^32 slots (16 TiB)");
        }
        PoolSpec spec = PoolSpec.privatePool(true);
        PoolRef pool = replicas == 0 ? client.newPool(spec) : client.newPool(spec, replicas);
        SwapStore store = new SwapStore(client, pool, sizeBytes / BLOCK_BYTES, diskFile);
        // This agent is the disk-writing peer of its own pool: donors under pressure give its pages back here.
        client.onHandback((p, object, index, page) -> p == pool && object == OBJECT
            && store.takeHandedBack(index & 0xFFFFFFFFL, page));
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

    @Override
    public CompletableFuture<Void> read(long first, int count, byte[] dst, int offset) {
        checkRange(first, count);
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
            parts.add(readCluster(clusterIdx, clusterAt, inCluster, dst));
        }
        counters.read(count);
        return parts == null ? CompletableFuture.completedFuture(null)
            : CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
    }

    private CompletableFuture<Void> readCluster(int[] idx, int[] at, int n, byte[] dst) {
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
                int place = slots.place(slot);
                if (place == SlotMap.CLUSTER) {
                    counters.loseOne();
                    return CompletableFuture.failedFuture(new SlotLostException("slot " + slot + " is lost: "
                        + st[i] + " from every donor that held it"));
                }
                // Handed back or rewritten while the read was under way: read it where it lives now.
                int offset = at[i];
                again = again == null ? new ArrayList<>() : again;
                again.add(place == SlotMap.DISK ? CompletableFuture.runAsync(() -> readDisk(slot, dst, offset), diskIo)
                    : CompletableFuture.runAsync(() -> Arrays.fill(dst, offset, offset + BLOCK_BYTES, (byte) 0)));
            }
            return again == null ? CompletableFuture.completedFuture(null)
                : CompletableFuture.allOf(again.toArray(new CompletableFuture<?>[0]));
        });
    }

    @Override
    public CompletableFuture<Void> write(long first, int count, byte[] src, int offset) {
        checkRange(first, count);
        int[] pageAt = new int[count];
        int[] idx = new int[count];
        int data = 0;
        int[] zeroIdx = null;
        int zeros = 0;
        for (int j = 0; j < count; j++) {
            long slot = first + j;
            int at = offset + j * BLOCK_BYTES;
            slots.beginWrite(slot);
            if (Arrays.equals(src, at, at + BLOCK_BYTES, ZEROS, 0, BLOCK_BYTES)) {
                if (slots.place(slot) == SlotMap.CLUSTER) {
                    zeroIdx = zeroIdx == null ? new int[count] : zeroIdx;
                    zeroIdx[zeros++] = (int) slot;
                } else {
                    slots.endWrite(slot, SlotMap.NOWHERE);
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
            // A put that failed as a whole (no donor reachable) is a put the cluster rejected: the disk takes it.
            CompletableFuture<PageStatus[]> put = n == 1
                ? client.putAsync(pool, OBJECT, idx[0], src, pageAt[0]).thenApply(status -> new PageStatus[] {status})
                : client.putBatchAsync(pool, new long[n], idx, PageSlots.scattered(src, pageAt), n);
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
                slots.endWrite(slot, SlotMap.CLUSTER);
                continue;
            }
            int offset = at[i];
            toDisk = toDisk == null ? new ArrayList<>() : toDisk;
            toDisk.add(CompletableFuture.runAsync(() -> {
                try {
                    disk.write(slot, ByteBuffer.wrap(src, offset, BLOCK_BYTES));
                    slots.endWrite(slot, SlotMap.DISK);
                    counters.spilled();
                } catch (RuntimeException e) {
                    // The cluster copy is gone (a rejected put removes the older version) and the disk failed.
                    slots.endWrite(slot, SlotMap.NOWHERE);
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
        int[] idx = new int[count];
        int inCluster = 0;
        for (int j = 0; j < count; j++) {
            long slot = first + j;
            slots.beginWrite(slot);
            if (slots.place(slot) == SlotMap.CLUSTER) {
                idx[inCluster++] = (int) slot;
            } else {
                slots.endWrite(slot, SlotMap.NOWHERE);
            }
        }
        counters.trimmed(count);
        return inCluster == 0 ? CompletableFuture.completedFuture(null) : forget(idx, inCluster);
    }

    /**
     * Slots that now read as zeros leave the cluster, so donors free their memory. The slots stay marked as being
     * written until the flush is done: the flush must not overtake a later write of the same slot.
     */
    private CompletableFuture<Void> forget(int[] idx, int n) {
        return client.flushPagesAsync(pool, new long[n], idx, n).handle((st, error) -> {
            for (int i = 0; i < n; i++) {
                slots.endWrite(idx[i] & 0xFFFFFFFFL, SlotMap.NOWHERE);
            }
            return null; // a donor that failed to flush is out of service: its copy is forgotten anyway
        });
    }

    @Override
    public CompletableFuture<Void> flush() {
        // Cluster writes are acknowledged by every copy before they complete; the disk needs its sync.
        return CompletableFuture.runAsync(disk::sync, diskIo);
    }

    /**
     * A page a donor hands back: written to the disk file, and the slot moves there. Refused (the donor keeps
     * it) while a write of the slot is under way; a page of a slot that no longer lives in the cluster is stale
     * and taken without being written, so the donor frees it.
     */
    public boolean takeHandedBack(long slot, ByteBuffer page) {
        if (slot < 0 || slot >= slots.slots()) {
            return true; // not a slot of this device: nothing to keep, let the donor free it
        }
        if (slots.writing(slot)) {
            return false;
        }
        if (slots.place(slot) != SlotMap.CLUSTER) {
            return true;
        }
        disk.write(slot, page);
        if (!slots.moveToDisk(slot)) {
            return false; // a write began meanwhile; it will decide where the slot lives
        }
        counters.handBack();
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
