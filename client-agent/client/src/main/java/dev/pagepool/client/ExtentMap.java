package dev.pagepool.client;

import java.nio.ByteBuffer;

/**
 * Where the extents of one pool live: for each extent ({@link #EXTENT_PAGES} consecutive indexes of one object),
 * the donors holding its replicas. One entry per extent rather than per page keeps the map small (a 1 GiB swap
 * device is 4096 extents), and a sequential run of pages travels to each donor in one frame.
 *
 * <p>A replica is either <em>complete</em> (it holds every page of the extent the client was told was stored,
 * so reads may go to it) or <em>filling</em> (newly placed: it receives every new put, but the older pages are
 * still being copied to it by the {@link ReReplicator}). Entries also count writes begun and finished, which is
 * how the copier knows that nothing raced with its copy.
 *
 * <p>A complete copy may also hold <em>stale</em> pages: pages whose version there is unknown, because a write or
 * flush of them did not reach it (its donor was suspect, or the request failed there without an answer). A stale
 * page is never read from that copy; it becomes good again when a later write of it reaches the copy, or when the
 * re-replicator copies the whole extent to it again. A filling copy is not read, so there the mark says something
 * else: which of its pages it is not yet known to hold as written (all of them when it is placed, since its donor
 * may keep pages of an earlier copy of the extent; a write that reaches it clears the page's mark, a write that
 * misses it sets it, and the whole copy is known once it is complete). A page handed back by a donor is trusted
 * only where its copy is known to hold it ({@link #handedBack}).
 *
 * <p>The entries live in a {@link PoolMemory} (the heap, or a memory-mapped file that outlives the process), at
 * fixed offsets: no object per extent; only the hash index over them is on the heap, rebuilt when a map is
 * loaded. Stores that belong together are ordered so that a process dying between them errs on the safe side: a
 * copy is marked filling before it is named (never read before it was copied), named gone before its marks are
 * cleared, and a new entry is published by the entry count after its fields. Every method is synchronized;
 * callers take the lock once per batch through {@link #lock()} for the routing of many pages.
 */
final class ExtentMap {
    static final int EXTENT_PAGES = PoolMemory.EXTENT_PAGES;
    static final int MAX_REPLICAS = PoolMemory.MAX_REPLICAS;
    /** No entry, no donor: what a free donor slot of an entry holds. */
    static final int NONE = PoolMemory.NO_DONOR;

    private final PoolMemory memory;
    /** The memory's buffer; replaced when a heap memory grows. */
    private ByteBuffer b;
    private int size;
    /** Hash slots holding entry + 1, 0 when empty; kept at most half full. Derived from the entries. */
    private int[] slots;
    /** Set once any page went stale: until then, writes need not clear marks. */
    private volatile boolean anyStale;
    /**
     * Operations that touch a whole object (flush_object), which entries cannot count: begun and ended. While one
     * is under way no copy is valid, as for a write of the entry itself.
     */
    private int bulkBegun;
    private int bulkEnded;

    ExtentMap() {
        this(PoolMemory.onHeap());
    }

    /** The map in {@code memory}, with whatever entries it already holds. */
    ExtentMap(PoolMemory memory) {
        this.memory = memory;
        this.b = memory.buffer();
        this.size = memory.size();
        this.slots = new int[Integer.highestOneBit(Math.max(64, size) * 4)];
        for (int e = 0; e < size; e++) {
            insertSlot(e);
            for (int k = 0; k < MAX_REPLICAS; k++) {
                anyStale |= b.getLong(at(e) + PoolMemory.STALE + 8 * k) != 0;
            }
        }
    }

    static int extentOf(int index) {
        return Integer.divideUnsigned(index, EXTENT_PAGES);
    }

    Object lock() {
        return this;
    }

    PoolMemory memory() {
        return memory;
    }

    synchronized int size() {
        return size;
    }

    /** The entry of the extent, or {@link #NONE}. */
    synchronized int find(long object, int extent) {
        int mask = slots.length - 1;
        for (int s = hash(object, extent) & mask; ; s = (s + 1) & mask) {
            int e = slots[s] - 1;
            if (e < 0) {
                return NONE;
            }
            if (object(e) == object && extent(e) == extent) {
                return e;
            }
        }
    }

    /** The entry of the extent, created without replicas when new. */
    synchronized int findOrAdd(long object, int extent) {
        int e = find(object, extent);
        if (e != NONE) {
            return e;
        }
        e = size;
        memory.ensure(e);
        b = memory.buffer();
        b.putLong(at(e) + PoolMemory.OBJECT, object);
        b.putInt(at(e) + PoolMemory.EXTENT, extent);
        size++;
        memory.size(size); // published after the entry's fields
        if (size * 2 > slots.length) {
            slots = new int[slots.length * 2];
            for (int x = 0; x < size; x++) {
                insertSlot(x);
            }
        } else {
            insertSlot(e);
        }
        return e;
    }

    synchronized long object(int entry) {
        return b.getLong(at(entry) + PoolMemory.OBJECT);
    }

    synchronized int extent(int entry) {
        return b.getInt(at(entry) + PoolMemory.EXTENT);
    }

    synchronized int replica(int entry, int k) {
        return b.getShort(at(entry) + PoolMemory.DONOR + 2 * k);
    }

    private void setReplica(int entry, int k, int donor) {
        b.putShort(at(entry) + PoolMemory.DONOR + 2 * k, (short) donor);
    }

    private int filling(int entry) {
        return b.get(at(entry) + PoolMemory.FILLING);
    }

    private void setFilling(int entry, int bits) {
        b.put(at(entry) + PoolMemory.FILLING, (byte) bits);
    }

    private int staleAt(int entry, int k) {
        return at(entry) + PoolMemory.STALE + 8 * k;
    }

    synchronized boolean isFilling(int entry, int k) {
        return (filling(entry) & (1 << k)) != 0;
    }

    /** Replicas placed, complete or filling. */
    synchronized int replicaCount(int entry) {
        int n = 0;
        for (int k = 0; k < MAX_REPLICAS; k++) {
            n += replica(entry, k) != NONE ? 1 : 0;
        }
        return n;
    }

    synchronized int completeCount(int entry) {
        int n = 0;
        for (int k = 0; k < MAX_REPLICAS; k++) {
            n += replica(entry, k) != NONE && !isFilling(entry, k) ? 1 : 0;
        }
        return n;
    }

    /** Whether a complete copy of the entry is on one of the donors of {@code donorMask}. */
    synchronized boolean completeOn(int entry, long donorMask) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            int d = replica(entry, k);
            if (d != NONE && !isFilling(entry, k) && (donorMask & (1L << d)) != 0) {
                return true;
            }
        }
        return false;
    }

    synchronized boolean holds(int entry, int donor) {
        return slotOf(entry, donor) >= 0;
    }

    /** Adds a replica on {@code donor}; returns its slot, or {@link #NONE} when the entry is full. */
    synchronized int addReplica(int entry, int donor, boolean fill) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            if (replica(entry, k) == NONE) {
                // Marked before it is named: a copy is never taken for complete by mistake. A filling copy knows
                // none of its pages yet; the copies of a new (or lost) extent know every page: none has a version
                // that is not lost.
                setFilling(entry, fill ? filling(entry) | (1 << k) : filling(entry) & ~(1 << k));
                b.putLong(staleAt(entry, k), fill ? -1L : 0);
                anyStale |= fill;
                setReplica(entry, k, donor);
                return k;
            }
        }
        return NONE;
    }

    /**
     * Marks page {@code index} stale on {@code donor}'s copy of the entry: a write or flush of the page did not
     * reach it, so what it holds of the page is unknown.
     */
    synchronized void markStale(int entry, int donor, int index) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            b.putLong(staleAt(entry, k), b.getLong(staleAt(entry, k)) | bit(index));
            anyStale = true;
        }
    }

    /** Marks every page of every extent of {@code object} stale on {@code donor}: a flush_object missed it. */
    synchronized void markObjectStale(long object, int donor) {
        for (int e = 0; e < size; e++) {
            int k = object(e) == object ? slotOf(e, donor) : NONE;
            if (k >= 0) {
                b.putLong(staleAt(e, k), -1L);
                anyStale = true;
            }
        }
    }

    /** A write of page {@code index} reached the copies on the donors of {@code donorMask}: it is known there again. */
    synchronized void clearStale(int entry, long donorMask, int index) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            int d = replica(entry, k);
            if (d != NONE && (donorMask & (1L << d)) != 0) {
                b.putLong(staleAt(entry, k), b.getLong(staleAt(entry, k)) & ~bit(index));
            }
        }
    }

    /** Whether page {@code index} is stale on the copy in replica slot {@code k}. */
    synchronized boolean isStale(int entry, int k, int index) {
        return (b.getLong(staleAt(entry, k)) & bit(index)) != 0;
    }

    /** What a page handed back by a donor is to the map: see {@link #handedBack}. */
    enum HandBack {
        /** The donor's copy holds the page's last write, or the one before it: its version tells which. */
        COMPARE,
        /** Not the page's current content (a copy that missed a write of it, or no copy the map knows): freed. */
        STALE,
        /** Not known yet (a filling copy that has not been copied whole): the donor keeps it and offers it again. */
        NOT_YET
    }

    /**
     * What page {@code index} of {@code object}, handed back by {@code donor}, can be. A copy the map names, whose
     * page is not stale and not lost, received every write of the page since it was placed (or copied whole), so it
     * holds the last one or, while a write is under way, the one before. Anything else a donor holds is older than
     * what the map knows, or not known yet: the version, kept in 16 bits, is never what tells.
     */
    synchronized HandBack handedBack(long object, int index, int donor) {
        int e = find(object, extentOf(index));
        int k = e == NONE ? NONE : slotOf(e, donor);
        if (k < 0 || pageLost(e, index)) {
            return HandBack.STALE;
        }
        if (isStale(e, k, index)) {
            return isFilling(e, k) ? HandBack.NOT_YET : HandBack.STALE;
        }
        return HandBack.COMPARE;
    }

    /** Whether the copy in replica slot {@code k} has any stale page. */
    synchronized boolean hasStale(int entry, int k) {
        return b.getLong(staleAt(entry, k)) != 0;
    }

    boolean mayHaveStale() {
        return anyStale;
    }

    /** Forgets the filling copies on {@code donor}, which went suspect: their copying can no longer finish. */
    synchronized void dropFillingOn(int donor) {
        for (int e = 0; e < size; e++) {
            int k = slotOf(e, donor);
            if (k >= 0 && isFilling(e, k)) {
                clearSlot(e, k);
            }
        }
    }

    /**
     * Turns {@code donor}'s complete copy of the entry, which holds stale pages, back into a filling one: no longer
     * read, still written, and complete again only once copied whole with no write racing the copy. Its stale
     * marks stay: those pages are still not known there.
     */
    synchronized void refill(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            setFilling(entry, filling(entry) | (1 << k));
        }
    }

    /** The copy was copied whole with no write racing the copy: it holds every page as the map knows it. */
    synchronized void markComplete(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            b.putLong(staleAt(entry, k), 0);
            setFilling(entry, filling(entry) & ~(1 << k));
        }
    }

    synchronized void removeReplica(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            clearSlot(entry, k);
        }
    }

    /** Unnames the copy in slot {@code k} first, then clears its marks: a half-done change is a copy gone. */
    private void clearSlot(int entry, int k) {
        setReplica(entry, k, NONE);
        setFilling(entry, filling(entry) & ~(1 << k));
    }

    /**
     * Forgets every replica on {@code donor}, which is gone or may have lost or kept stale pages. An extent left
     * without a complete replica is lost: its pages are reported as lost, never read from anywhere else.
     * Returns how many extents were lost now.
     */
    synchronized int dropDonor(int donor) {
        int lostNow = 0;
        for (int e = 0; e < size; e++) {
            lostNow += dropSlot(e, slotOf(e, donor)) ? 1 : 0;
        }
        return lostNow;
    }

    /**
     * Forgets the copy of one extent on {@code donor}, whose content is no longer known (a flush or an undo of a
     * refused put failed there): it must never be read again. Returns true if the extent lost its last complete
     * copy with it.
     */
    synchronized boolean dropCopy(int entry, int donor) {
        return dropSlot(entry, slotOf(entry, donor));
    }

    private boolean dropSlot(int e, int k) {
        if (k < 0) {
            return false;
        }
        boolean wasComplete = !isFilling(e, k);
        clearSlot(e, k);
        if (wasComplete && completeCount(e) == 0 && !isLost(e)) {
            b.putLong(at(e) + PoolMemory.LOST_PAGES, -1L);
            b.put(at(e) + PoolMemory.LOST, (byte) 1);
            // Filling replicas never received the old pages: they cannot stand in for the lost ones.
            for (int j = 0; j < MAX_REPLICAS; j++) {
                clearSlot(e, j);
            }
            return true;
        }
        return false;
    }

    /**
     * Whether some pages of the extent were lost (every copy gone at once). The flag stays after the extent is
     * written again and placed afresh, so a page of it that was lost still reads as lost, not as a plain miss;
     * the new copies are re-replicated like any others.
     */
    synchronized boolean isLost(int entry) {
        return b.get(at(entry) + PoolMemory.LOST) != 0;
    }

    synchronized void beginWrite(int entry) {
        b.putInt(at(entry) + PoolMemory.WRITES_BEGUN, b.getInt(at(entry) + PoolMemory.WRITES_BEGUN) + 1);
    }

    synchronized void endWrite(int entry) {
        b.putInt(at(entry) + PoolMemory.WRITES_ENDED, b.getInt(at(entry) + PoolMemory.WRITES_ENDED) + 1);
    }

    /** Whether a write of the entry was under way: begun and not ended (after a restart: when the process died). */
    synchronized boolean writeUnderWay(int entry) {
        return b.getInt(at(entry) + PoolMemory.WRITES_BEGUN) != b.getInt(at(entry) + PoolMemory.WRITES_ENDED);
    }

    /** Forgets writes that will never end: those of a process that died. */
    synchronized void settleWrites(int entry) {
        b.putInt(at(entry) + PoolMemory.WRITES_ENDED, b.getInt(at(entry) + PoolMemory.WRITES_BEGUN));
    }

    /**
     * Renumbers the donors of every copy: {@code to[old]} is the donor's index now, {@link #NONE} for a donor
     * that is not known any more, whose copies are forgotten (an extent left without one is lost).
     */
    synchronized void renumberDonors(int[] to) {
        for (int e = 0; e < size; e++) {
            for (int k = 0; k < MAX_REPLICAS; k++) {
                int d = replica(e, k);
                if (d != NONE && to[d] == NONE) {
                    dropSlot(e, k);
                } else if (d != NONE) {
                    setReplica(e, k, to[d]);
                }
            }
        }
    }

    /**
     * After the death of the process that wrote the map: an extent with a write under way may have copies that
     * disagree about its pages (some took the write, some not). One complete copy is kept as it is; the others are
     * made filling, to be copied whole from it. Either version of such a page is right to read: its write was
     * never acknowledged, and the block device's client sends it again.
     */
    synchronized void settleWritesOfTheDead() {
        for (int e = 0; e < size; e++) {
            if (!writeUnderWay(e)) {
                continue;
            }
            settleWrites(e);
            boolean kept = false;
            for (int k = 0; k < MAX_REPLICAS; k++) {
                if (replica(e, k) == NONE || isFilling(e, k)) {
                    continue;
                }
                if (kept) {
                    refill(e, replica(e, k));
                }
                kept = true;
            }
        }
    }

    /** Whether page {@code index} of the entry's extent may have been lost and was not put or flushed since. */
    synchronized boolean pageLost(int entry, int index) {
        return (b.getLong(at(entry) + PoolMemory.LOST_PAGES) & bit(index)) != 0;
    }

    /** A put or flush of the page settled: from now on a miss of it is a plain miss. */
    synchronized void clearPageLost(int entry, int index) {
        int at = at(entry) + PoolMemory.LOST_PAGES;
        long lostPages = b.getLong(at);
        if ((lostPages & bit(index)) != 0) {
            b.putLong(at, lostPages & ~bit(index));
        }
    }

    /** Records the version of a put of page {@code index} of the entry's extent, as the put begins. */
    synchronized void setVersion(int entry, int index, long version) {
        b.putShort(memory.version(entry, Integer.remainderUnsigned(index, EXTENT_PAGES)), (short) version);
    }

    /**
     * The low 16 bits of the version of the last put begun of page {@code index} of the entry's extent; 0 if none
     * carried one.
     */
    synchronized long version(int entry, int index) {
        return Short.toUnsignedLong(b.getShort(memory.version(entry, Integer.remainderUnsigned(index, EXTENT_PAGES))));
    }

    synchronized void beginBulkWrite() {
        bulkBegun++;
    }

    synchronized void endBulkWrite() {
        bulkEnded++;
    }

    /**
     * A stamp of the writes an entry has seen, or {@link Long#MIN_VALUE} while a write of it or a bulk write is
     * still under way: a copy is valid only if taken with no write in flight and the stamp is unchanged when the
     * copy is done.
     */
    synchronized long writeStamp(int entry) {
        int begun = b.getInt(at(entry) + PoolMemory.WRITES_BEGUN);
        if (begun != b.getInt(at(entry) + PoolMemory.WRITES_ENDED) || bulkBegun != bulkEnded) {
            return Long.MIN_VALUE;
        }
        return ((long) bulkBegun << 32) | (begun & 0xFFFFFFFFL);
    }

    private int slotOf(int entry, int donor) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            if (replica(entry, k) == donor) {
                return k;
            }
        }
        return NONE;
    }

    private static int at(int entry) {
        return PoolMemory.entry(entry);
    }

    private static long bit(int index) {
        return 1L << Integer.remainderUnsigned(index, EXTENT_PAGES);
    }

    private void insertSlot(int entry) {
        int mask = slots.length - 1;
        int s = hash(object(entry), extent(entry)) & mask;
        while (slots[s] != 0) {
            s = (s + 1) & mask;
        }
        slots[s] = entry + 1;
    }

    private static int hash(long object, int extent) {
        long h = object * 0x9E3779B97F4A7C15L + extent;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return (int) h;
    }
}
