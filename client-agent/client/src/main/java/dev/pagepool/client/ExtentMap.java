package dev.pagepool.client;

import java.util.Arrays;

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
 * re-replicator copies the whole extent to it again. Filling copies need no such mark: they are copied whole
 * before they count.
 *
 * <p>Primitive arrays and open addressing: no object per extent. Every method is synchronized; callers take the
 * lock once per batch through {@link #lock()} for the routing of many pages.
 */
final class ExtentMap {
    static final int EXTENT_PAGES = 64;
    static final int MAX_REPLICAS = 3;
    static final int NONE = -1;

    private long[] objects = new long[64];
    private int[] extents = new int[64];
    private short[] donors = filledShorts(64 * MAX_REPLICAS);
    private byte[] filling = new byte[64];
    private boolean[] lost = new boolean[64];
    /**
     * Per entry, one bit per page that may have been lost with the extent's last copy and was neither put nor
     * flushed since: a miss of such a page is reported LOST, not as a plain miss.
     */
    private long[] lostPages = new long[64];
    /** Per entry and replica slot, one bit per page that is stale on that copy. */
    private long[] stale = new long[64 * MAX_REPLICAS];
    /** Set once any page went stale: until then, writes need not clear marks. */
    private volatile boolean anyStale;
    private int[] writesBegun = new int[64];
    private int[] writesEnded = new int[64];
    /**
     * Per page, the caller's version of the last put begun, in entry order ({@link #EXTENT_PAGES} per entry). Set
     * under the same lock as the write stamp, so a copier that finds no write in flight reads versions that match
     * the pages on the complete copies.
     */
    private long[] pageVersions = new long[64 * EXTENT_PAGES];
    private int size;
    /** Hash slots holding entry + 1, 0 when empty; kept at most half full. */
    private int[] slots = new int[128];
    /**
     * Operations that touch a whole object (flush_object), which entries cannot count: begun and ended. While one
     * is under way no copy is valid, as for a write of the entry itself.
     */
    private int bulkBegun;
    private int bulkEnded;

    static int extentOf(int index) {
        return Integer.divideUnsigned(index, EXTENT_PAGES);
    }

    Object lock() {
        return this;
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
            if (objects[e] == object && extents[e] == extent) {
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
        if (size == objects.length) {
            grow();
        }
        e = size++;
        objects[e] = object;
        extents[e] = extent;
        insertSlot(e);
        return e;
    }

    synchronized long object(int entry) {
        return objects[entry];
    }

    synchronized int extent(int entry) {
        return extents[entry];
    }

    synchronized int replica(int entry, int k) {
        return donors[entry * MAX_REPLICAS + k];
    }

    synchronized boolean isFilling(int entry, int k) {
        return (filling[entry] & (1 << k)) != 0;
    }

    /** Replicas placed, complete or filling. */
    synchronized int replicaCount(int entry) {
        int n = 0;
        for (int k = 0; k < MAX_REPLICAS; k++) {
            n += donors[entry * MAX_REPLICAS + k] != NONE ? 1 : 0;
        }
        return n;
    }

    synchronized int completeCount(int entry) {
        int n = 0;
        for (int k = 0; k < MAX_REPLICAS; k++) {
            n += donors[entry * MAX_REPLICAS + k] != NONE && !isFilling(entry, k) ? 1 : 0;
        }
        return n;
    }

    synchronized boolean holds(int entry, int donor) {
        return slotOf(entry, donor) >= 0;
    }

    /** Adds a replica on {@code donor}; returns its slot, or {@link #NONE} when the entry is full. */
    synchronized int addReplica(int entry, int donor, boolean fill) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            if (donors[entry * MAX_REPLICAS + k] == NONE) {
                donors[entry * MAX_REPLICAS + k] = (short) donor;
                filling[entry] = (byte) (fill ? filling[entry] | (1 << k) : filling[entry] & ~(1 << k));
                stale[entry * MAX_REPLICAS + k] = 0;
                return k;
            }
        }
        return NONE;
    }

    /**
     * Marks page {@code index} stale on {@code donor}'s copy of the entry, if that copy is complete: a write or
     * flush of the page did not reach it, so what it holds of the page is unknown.
     */
    synchronized void markStale(int entry, int donor, int index) {
        int k = slotOf(entry, donor);
        if (k >= 0 && !isFilling(entry, k)) {
            stale[entry * MAX_REPLICAS + k] |= 1L << Integer.remainderUnsigned(index, EXTENT_PAGES);
            anyStale = true;
        }
    }

    /** Marks every page of every extent of {@code object} stale on {@code donor}: a flush_object missed it. */
    synchronized void markObjectStale(long object, int donor) {
        for (int e = 0; e < size; e++) {
            int k = objects[e] == object ? slotOf(e, donor) : NONE;
            if (k >= 0 && !isFilling(e, k)) {
                stale[e * MAX_REPLICAS + k] = -1L;
                anyStale = true;
            }
        }
    }

    /** A write of page {@code index} reached the copies on the donors of {@code donorMask}: it is known there again. */
    synchronized void clearStale(int entry, long donorMask, int index) {
        long bit = 1L << Integer.remainderUnsigned(index, EXTENT_PAGES);
        for (int k = 0; k < MAX_REPLICAS; k++) {
            int d = donors[entry * MAX_REPLICAS + k];
            if (d != NONE && (donorMask & (1L << d)) != 0) {
                stale[entry * MAX_REPLICAS + k] &= ~bit;
            }
        }
    }

    /** Whether page {@code index} is stale on the copy in replica slot {@code k}. */
    synchronized boolean isStale(int entry, int k, int index) {
        return (stale[entry * MAX_REPLICAS + k] & (1L << Integer.remainderUnsigned(index, EXTENT_PAGES))) != 0;
    }

    /** Whether the copy in replica slot {@code k} has any stale page. */
    synchronized boolean hasStale(int entry, int k) {
        return stale[entry * MAX_REPLICAS + k] != 0;
    }

    boolean mayHaveStale() {
        return anyStale;
    }

    /** Forgets the filling copies on {@code donor}, which went suspect: their copying can no longer finish. */
    synchronized void dropFillingOn(int donor) {
        for (int e = 0; e < size; e++) {
            int k = slotOf(e, donor);
            if (k >= 0 && isFilling(e, k)) {
                donors[e * MAX_REPLICAS + k] = NONE;
                filling[e] = (byte) (filling[e] & ~(1 << k));
            }
        }
    }

    /**
     * Turns {@code donor}'s complete copy of the entry, which holds stale pages, back into a filling one: no longer
     * read, still written, and complete again only once copied whole with no write racing the copy.
     */
    synchronized void refill(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            filling[entry] = (byte) (filling[entry] | (1 << k));
            stale[entry * MAX_REPLICAS + k] = 0;
        }
    }

    synchronized void markComplete(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            filling[entry] = (byte) (filling[entry] & ~(1 << k));
        }
    }

    synchronized void removeReplica(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k >= 0) {
            donors[entry * MAX_REPLICAS + k] = NONE;
            filling[entry] = (byte) (filling[entry] & ~(1 << k));
        }
    }

    /**
     * Forgets every replica on {@code donor}, which is gone or may have lost or kept stale pages. An extent left
     * without a complete replica is lost: its pages are reported as lost, never read from anywhere else.
     * Returns how many extents were lost now.
     */
    synchronized int dropDonor(int donor) {
        int lostNow = 0;
        for (int e = 0; e < size; e++) {
            int k = slotOf(e, donor);
            if (k < 0) {
                continue;
            }
            boolean wasComplete = !isFilling(e, k);
            donors[e * MAX_REPLICAS + k] = NONE;
            filling[e] = (byte) (filling[e] & ~(1 << k));
            if (wasComplete && completeCount(e) == 0 && !lost[e]) {
                lost[e] = true;
                lostPages[e] = -1L;
                lostNow++;
                // Filling replicas never received the old pages: they cannot stand in for the lost ones.
                for (int j = 0; j < MAX_REPLICAS; j++) {
                    donors[e * MAX_REPLICAS + j] = NONE;
                }
                filling[e] = 0;
            }
        }
        return lostNow;
    }

    /**
     * Forgets the copy of one extent on {@code donor}, whose content is no longer known (a flush or an undo of a
     * refused put failed there): it must never be read again. Returns true if the extent lost its last complete
     * copy with it.
     */
    synchronized boolean dropCopy(int entry, int donor) {
        int k = slotOf(entry, donor);
        if (k < 0) {
            return false;
        }
        boolean wasComplete = !isFilling(entry, k);
        donors[entry * MAX_REPLICAS + k] = NONE;
        filling[entry] = (byte) (filling[entry] & ~(1 << k));
        if (wasComplete && completeCount(entry) == 0 && !lost[entry]) {
            lost[entry] = true;
            lostPages[entry] = -1L;
            for (int j = 0; j < MAX_REPLICAS; j++) {
                donors[entry * MAX_REPLICAS + j] = NONE;
            }
            filling[entry] = 0;
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
        return lost[entry];
    }

    synchronized void beginWrite(int entry) {
        writesBegun[entry]++;
    }

    synchronized void endWrite(int entry) {
        writesEnded[entry]++;
    }

    /** Whether page {@code index} of the entry's extent may have been lost and was not put or flushed since. */
    synchronized boolean pageLost(int entry, int index) {
        return (lostPages[entry] & (1L << Integer.remainderUnsigned(index, EXTENT_PAGES))) != 0;
    }

    /** A put or flush of the page settled: from now on a miss of it is a plain miss. */
    synchronized void clearPageLost(int entry, int index) {
        lostPages[entry] &= ~(1L << Integer.remainderUnsigned(index, EXTENT_PAGES));
    }

    /** Records the version of a put of page {@code index} of the entry's extent, as the put begins. */
    synchronized void setVersion(int entry, int index, long version) {
        pageVersions[entry * EXTENT_PAGES + Integer.remainderUnsigned(index, EXTENT_PAGES)] = version;
    }

    /** The version of the last put begun of page {@code index} of the entry's extent; 0 if none carried one. */
    synchronized long version(int entry, int index) {
        return pageVersions[entry * EXTENT_PAGES + Integer.remainderUnsigned(index, EXTENT_PAGES)];
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
        if (writesBegun[entry] != writesEnded[entry] || bulkBegun != bulkEnded) {
            return Long.MIN_VALUE;
        }
        return ((long) bulkBegun << 32) | (writesBegun[entry] & 0xFFFFFFFFL);
    }

    private int slotOf(int entry, int donor) {
        for (int k = 0; k < MAX_REPLICAS; k++) {
            if (donors[entry * MAX_REPLICAS + k] == donor) {
                return k;
            }
        }
        return NONE;
    }

    private void grow() {
        int n = objects.length * 2;
        objects = Arrays.copyOf(objects, n);
        extents = Arrays.copyOf(extents, n);
        short[] d = filledShorts(n * MAX_REPLICAS);
        System.arraycopy(donors, 0, d, 0, donors.length);
        donors = d;
        filling = Arrays.copyOf(filling, n);
        stale = Arrays.copyOf(stale, n * MAX_REPLICAS);
        lost = Arrays.copyOf(lost, n);
        lostPages = Arrays.copyOf(lostPages, n);
        writesBegun = Arrays.copyOf(writesBegun, n);
        writesEnded = Arrays.copyOf(writesEnded, n);
        pageVersions = Arrays.copyOf(pageVersions, n * EXTENT_PAGES);
        slots = new int[n * 2];
        for (int e = 0; e < size; e++) {
            insertSlot(e);
        }
    }

    private void insertSlot(int entry) {
        int mask = slots.length - 1;
        int s = hash(objects[entry], extents[entry]) & mask;
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

    private static short[] filledShorts(int n) {
        short[] a = new short[n];
        Arrays.fill(a, (short) NONE);
        return a;
    }
}
