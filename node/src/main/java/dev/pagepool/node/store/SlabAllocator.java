package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Memory for stored pages: direct-buffer chunks carved into 64 KiB slabs, each slab serving one size class.
 *
 * <p>The arena grows a chunk at a time as pages arrive and never past the budget, so a donor holds only the
 * memory it is using for pages. A slab is given to a size class when that class needs room and taken back when
 * its last slot is freed, so memory moves between classes as the mix of compressed sizes changes; the cost is
 * at most one partly-used slab per class (64 classes x 64 KiB = 4 MiB) of fragmentation.
 *
 * <p>No object per slot or per slab: a slab's state is a few entries in parallel arrays (its class, its used
 * count, its free-list head, its bump mark, its links in the per-class list of slabs with free slots), 21
 * bytes per slab, a third of a byte per page. Free slots are chained through their own first four bytes in
 * the arena, as in a classic slab allocator, so freeing costs no metadata; slots never used yet are handed
 * out by a bump mark, so a new slab needs no initialisation. An address is a long,
 * {@code slab * SLAB_BYTES + slot * slotBytes}. Not thread-safe: the {@link PageStore} lock guards it.
 */
final class SlabAllocator {
    static final int SLAB_BYTES = 64 * 1024;
    private static final int NONE = -1;

    private final int chunkBytes;
    private final int slabsPerChunk;
    private ByteBuffer[] chunks = new ByteBuffer[0];
    private long capacityBytes;

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
    private int freeSlabCount;
    private int slabsInUse;

    SlabAllocator(long capacityBytes, int chunkBytes) {
        this.chunkBytes = chunkBytes;
        this.slabsPerChunk = chunkBytes / SLAB_BYTES;
        this.capacityBytes = capacityBytes;
        Arrays.fill(partialHead, NONE);
    }

    void setCapacity(long bytes) {
        capacityBytes = bytes;
    }

    long capacityBytes() {
        return capacityBytes;
    }

    /** Bytes of slabs given to size classes: what counts against the budget. */
    long usedBytes() {
        return (long) slabsInUse * SLAB_BYTES;
    }

    long arenaBytes() {
        return (long) chunks.length * chunkBytes;
    }

    /**
     * A free slot of the class, or -1 when the budget is spent. A store over its budget (it was shrunk) takes
     * nothing, not even a free slot in a slab it already holds: it must shed memory, not fill holes.
     */
    long allocate(int sizeClass) {
        if (usedBytes() > capacityBytes) {
            return -1;
        }
        int slab = partialHead[sizeClass];
        if (slab == NONE) {
            slab = takeSlab(sizeClass);
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

    /** Frees every chunk: the store is closing. */
    void release() {
        chunks = new ByteBuffer[0];
        freeSlabCount = 0;
        slabsInUse = 0;
    }

    private int takeSlab(int sizeClass) {
        if (usedBytes() + SLAB_BYTES > capacityBytes) {
            return NONE;
        }
        if (freeSlabCount == 0 && !growChunk()) {
            return NONE;
        }
        int slab = freeSlabs[--freeSlabCount];
        slabClass[slab] = (byte) sizeClass;
        slabUsed[slab] = 0;
        slabFreeHead[slab] = NONE;
        slabBump[slab] = 0;
        slabsInUse++;
        linkPartial(slab, sizeClass);
        return slab;
    }

    private boolean growChunk() {
        ByteBuffer chunk = ByteBuffer.allocateDirect(chunkBytes);
        int first = chunks.length * slabsPerChunk;
        int total = first + slabsPerChunk;
        chunks = Arrays.copyOf(chunks, chunks.length + 1);
        chunks[chunks.length - 1] = chunk;
        slabClass = Arrays.copyOf(slabClass, total);
        slabUsed = Arrays.copyOf(slabUsed, total);
        slabFreeHead = Arrays.copyOf(slabFreeHead, total);
        slabBump = Arrays.copyOf(slabBump, total);
        slabNext = Arrays.copyOf(slabNext, total);
        slabPrev = Arrays.copyOf(slabPrev, total);
        freeSlabs = Arrays.copyOf(freeSlabs, total);
        // Pushed in reverse so slabs are handed out in address order, which keeps early use in the first chunk.
        for (int slab = total - 1; slab >= first; slab--) {
            slabClass[slab] = NONE;
            freeSlabs[freeSlabCount++] = slab;
        }
        return true;
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
