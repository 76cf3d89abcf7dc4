package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Memory for stored pages: direct-buffer chunks carved into 64 KiB slabs, each slab serving one size class.
 *
 * <p>The arena grows a chunk at a time as pages arrive and never past the budget, so a donor holds only the
 * memory it is using for pages. A slab is given to a size class when that class needs room and taken back when
 * its last slot is freed, so memory moves between classes as the mix of compressed sizes changes. The cost is
 * fragmentation: a slot freed in a slab that still holds pages can serve only that slab's class, so with a
 * steady mix of sizes holes are refilled, while a sudden change of mix leaves memory stranded in sparse slabs
 * until their last pages go (zsmalloc answers that with compaction, which would need a slot-to-entry map
 * this store does not pay for). Allocation prefers slabs already partly used, so a class holds at most one
 * slab it has not filled at least once.
 *
 * <p>No object per slot or per slab: a slab's state is a few entries in parallel arrays (its class, its used
 * count, its free-list head, its bump mark, its links in the per-class list of slabs with free slots, its
 * place in the free-slab stack), 25 bytes per slab: 1.6 bytes per page when every page is stored raw (16 to
 * a slab), a few tenths of a byte at typical compression. A bitmap would cost up to 128 bytes per slab
 * (1,024 slots at the 64-byte class); instead free slots are chained through their own first four bytes in
 * the arena, as in a classic slab allocator, so freeing costs no metadata, and slots never used yet are
 * handed out by a bump mark, so a new slab needs no initialisation. An address is a long,
 * {@code slab * SLAB_BYTES + slot * slotBytes}. Not thread-safe: the {@link PageStore} lock guards it.
 */
final class SlabAllocator {
    static final int SLAB_BYTES = 64 * 1024;
    private static final int NONE = -1;
    private final int chunkBytes;
    /** Zeroes the next chunk off the data path; see {@link ChunkPrefetcher}. */
    private final ChunkPrefetcher prefetcher = new ChunkPrefetcher();
    private final int slabsPerChunk;
    private ByteBuffer[] chunks = new ByteBuffer[0];
    private long capacityBytes;
    private long arenaBytes;
    /** Growths that found no chunk ready and zeroed one under the store's lock. */
    private long inlineGrowths;

    // per-slab state, indexed by slab id
    private byte[] slabClass = new byte[0];
    private int[] slabUsed = new int[0];
    /** First free slot of the slab (NONE: none freed); the next is stored in the slot's first 4 bytes. */
    private int[] slabFreeHead = new int[0];
    /** Slots at or past this index have never been handed out. */
    private int[] slabBump = new int[0];
    private int[] slabNext = new int[0];
    private int[] slabPrev = new int[0];

    /** Head of each class's list of slabs that have a free slot. */
    private final int[] partialHead = new int[SizeClasses.COUNT];
    private int[] freeSlabs = new int[0];
    /** Slabs in use per chunk: a chunk at 0 can be given back to the OS when the budget shrank below the arena. */
    private int[] chunkSlabsInUse = new int[0];
    private int freeSlabCount;
    private int slabsInUse;

    SlabAllocator(long capacityBytes, int chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.slabsPerChunk = chunkBytes / SLAB_BYTES;
        this.capacityBytes = capacityBytes;
        Arrays.fill(partialHead, NONE);
        prefetchNext();
    }

    void setCapacity(long bytes) {
        capacityBytes = bytes;
        prefetchNext();
    }

    long capacityBytes() {
        return capacityBytes;
    }

    /** Bytes of slabs given to size classes: what counts against the budget. */
    long usedBytes() {
        return (long) slabsInUse * SLAB_BYTES;
    }

    long arenaBytes() {
        return arenaBytes;
    }

    /**
     * A free slot of the class, or -1 when the budget is spent. A store over its budget (it was shrunk) takes
     * nothing, not even a free slot in a slab it already holds: it must shed memory, not fill holes.
     */
    long allocate(int sizeClass) {
        return allocate(sizeClass, Long.MAX_VALUE);
    }

    /**
     * As {@link #allocate(int)}, but takes a new slab only while that keeps the slabs in use within
     * {@code slabLimitBytes} as well as the budget: free slots of slabs already held are still handed out. The
     * store gives ephemeral puts the high watermark as that limit, so above it they recycle ephemeral slots (by
     * evicting) instead of taking memory persistent pages may need.
     */
    long allocate(int sizeClass, long slabLimitBytes) {
        if (usedBytes() > capacityBytes) {
            return -1;
        }
        int slab = partialHead[sizeClass];
        if (slab == NONE) {
            slab = takeSlab(sizeClass, Math.min(capacityBytes, slabLimitBytes));
            if (slab == NONE) {
                return -1;
            }
        }
        int slotBytes = SizeClasses.slotBytes(sizeClass);
        int slots = SLAB_BYTES / slotBytes;
        int slot = slabFreeHead[slab];
        if (slot != NONE) {
            long freed = (long) slab * SLAB_BYTES + (long) slot * slotBytes;
            slabFreeHead[slab] = chunkOf(freed).getInt(offsetInChunk(freed));
        } else {
            slot = slabBump[slab]++;
        }
        if (++slabUsed[slab] == slots) {
            unlinkPartial(slab, sizeClass);
        }
        return (long) slab * SLAB_BYTES + (long) slot * SizeClasses.slotBytes(sizeClass);
    }

    void free(long address) {
        int slab = (int) (address / SLAB_BYTES);
        int sizeClass = slabClass[slab];
        int slotBytes = SizeClasses.slotBytes(sizeClass);
        int slot = (int) (address % SLAB_BYTES) / slotBytes;
        int slots = SLAB_BYTES / slotBytes;
        if (sizeClass < 0 || slabUsed[slab] == 0) {
            throw new IllegalStateException("free of slot " + address + " in a slab that holds none");
        }
        chunkOf(address).putInt(offsetInChunk(address), slabFreeHead[slab]);
        slabFreeHead[slab] = slot;
        if (slabUsed[slab]-- == slots) {
            linkPartial(slab, sizeClass);
        }
        if (slabUsed[slab] == 0) {
            unlinkPartial(slab, sizeClass);
            slabClass[slab] = NONE;
            freeSlabs[freeSlabCount++] = slab;
            slabsInUse--;
            chunkSlabsInUse[slab / slabsPerChunk]--;
        }
    }

    /** The chunk holding {@code address}; read it at {@link #offsetInChunk}. */
    ByteBuffer chunkOf(long address) {
        return chunks[(int) (address / chunkBytes)];
    }

    int offsetInChunk(long address) {
        return (int) (address % chunkBytes);
    }

    long metadataBytes() {
        return slabClass.length + 4L * slabUsed.length + 4L * slabFreeHead.length + 4L * slabBump.length + 4L * slabNext.length
            + 4L * slabPrev.length + 4L * freeSlabs.length + 4L * partialHead.length + 8L * chunks.length;
    }

    /** Frees every chunk: the store is closing, and no address handed out may be used again. */
    void release() {
        ByteBuffer[] released = chunks;
        chunks = new ByteBuffer[0];
        chunkSlabsInUse = new int[0];
        for (ByteBuffer chunk : released) {
            if (chunk != null) {
                DirectChunks.free(chunk);
            }
        }
        arenaBytes = 0;
        freeSlabCount = 0;
        slabsInUse = 0;
        prefetcher.close();
    }

    /**
     * Gives chunks none of whose slabs is in use back to the OS while the arena is larger than the budget;
     * returns the bytes freed. Without this a budget cut under memory pressure would stop growth but never
     * shrink the process: freed slabs stay resident in their chunk. A freed chunk leaves a hole in the address
     * space that the next growth fills, so addresses stay {@code chunk * chunkBytes + offset}.
     */
    long trim() {
        long freed = 0;
        for (int c = chunks.length - 1; c >= 0 && arenaBytes > capacityBytes; c--) {
            if (chunks[c] == null || chunkSlabsInUse[c] != 0) {
                continue;
            }
            int first = c * slabsPerChunk;
            int end = first + slabsPerChunk;
            int kept = 0;
            for (int i = 0; i < freeSlabCount; i++) {
                int slab = freeSlabs[i];
                if (slab < first || slab >= end) {
                    freeSlabs[kept++] = slab;
                }
            }
            freeSlabCount = kept;
            int bytes = chunks[c].capacity();
            DirectChunks.free(chunks[c]);
            chunks[c] = null;
            arenaBytes -= bytes;
            freed += bytes;
        }
        prefetchNext();
        return freed;
    }

    private int takeSlab(int sizeClass, long limitBytes) {
        if (usedBytes() + SLAB_BYTES > limitBytes) {
            return NONE;
        }
        if (freeSlabCount == 0 && !growChunk()) {
            return NONE;
        }
        int slab = freeSlabs[--freeSlabCount];
        chunkSlabsInUse[slab / slabsPerChunk]++;
        slabClass[slab] = (byte) sizeClass;
        slabUsed[slab] = 0;
        slabFreeHead[slab] = NONE;
        slabBump[slab] = 0;
        slabsInUse++;
        linkPartial(slab, sizeClass);
        return slab;
    }

    /**
     * Adds a chunk, cut short when a whole one would take the arena past the budget, so the direct memory a
     * donor holds never exceeds what it was told to give. Chunk i still starts at {@code i * chunkBytes}: a
     * short chunk's missing slabs are just never put on the free list, which keeps address arithmetic a
     * division.
     */
    private boolean growChunk() {
        // Called only when every slab of the arena is in use and the budget has room for one more.
        long room = (capacityBytes - arenaBytes) / SLAB_BYTES * SLAB_BYTES;
        int bytes = (int) Math.min(chunkBytes, room);
        if (bytes < SLAB_BYTES) {
            return false;
        }
        ByteBuffer chunk = prefetcher.take(bytes);
        if (chunk == null) {
            chunk = DirectChunks.allocate(bytes);
            inlineGrowths++;
        }
        bytes = chunk.capacity(); // a chunk made ready under a smaller budget may be short; it is used as it is
        for (int c = 0; c < chunks.length; c++) {
            if (chunks[c] == null) {
                // A hole left by trim(): its slab state is already sized; only its free slabs come back.
                chunks[c] = chunk;
                arenaBytes += bytes;
                int from = c * slabsPerChunk;
                for (int slab = from + bytes / SLAB_BYTES - 1; slab >= from; slab--) {
                    freeSlabs[freeSlabCount++] = slab;
                }
                prefetchNext();
                return true;
            }
        }
        int first = chunks.length * slabsPerChunk;
        int total = first + slabsPerChunk;
        chunks = Arrays.copyOf(chunks, chunks.length + 1);
        chunks[chunks.length - 1] = chunk;
        arenaBytes += bytes;
        slabClass = Arrays.copyOf(slabClass, total);
        slabUsed = Arrays.copyOf(slabUsed, total);
        slabFreeHead = Arrays.copyOf(slabFreeHead, total);
        slabBump = Arrays.copyOf(slabBump, total);
        slabNext = Arrays.copyOf(slabNext, total);
        slabPrev = Arrays.copyOf(slabPrev, total);
        freeSlabs = Arrays.copyOf(freeSlabs, total);
        chunkSlabsInUse = Arrays.copyOf(chunkSlabsInUse, chunks.length);
        Arrays.fill(slabClass, first, total, (byte) NONE);
        // Pushed in reverse so slabs are handed out in address order, which keeps early use in the first chunk.
        for (int slab = first + bytes / SLAB_BYTES - 1; slab >= first; slab--) {
            freeSlabs[freeSlabCount++] = slab;
        }
        prefetchNext();
        return true;
    }

    /**
     * Has the chunk the next growth will add made ready, or dropped, when the budget has no room for it beyond
     * the arena: a donor never holds more than its budget, counting the chunk kept ready.
     */
    private void prefetchNext() {
        long room = Math.max(0, capacityBytes - arenaBytes) / SLAB_BYTES * SLAB_BYTES;
        int next = (int) Math.min(chunkBytes, room);
        if (next < SLAB_BYTES) {
            prefetcher.discard();
        } else {
            prefetcher.want(next);
        }
    }

    /** Bytes zeroed and held for the next growth, not yet part of the arena. */
    long readyBytes() {
        return prefetcher.readyBytes();
    }

    /** Growths that zeroed their chunk themselves, on the thread of the put that needed it. */
    long inlineGrowths() {
        return inlineGrowths;
    }

    private void linkPartial(int slab, int sizeClass) {
        int head = partialHead[sizeClass];
        slabNext[slab] = head;
        slabPrev[slab] = NONE;
        if (head != NONE) {
            slabPrev[head] = slab;
        }
        partialHead[sizeClass] = slab;
    }

    private void unlinkPartial(int slab, int sizeClass) {
        int prev = slabPrev[slab];
        int next = slabNext[slab];
        if (prev != NONE) {
            slabNext[prev] = next;
        } else if (partialHead[sizeClass] == slab) {
            partialHead[sizeClass] = next;
        } else {
            return; // not on the list (it was full)
        }
        if (next != NONE) {
            slabPrev[next] = prev;
        }
        slabNext[slab] = NONE;
        slabPrev[slab] = NONE;
    }
}
