package dev.pagepool.node.store;

import java.util.Arrays;

/**
 * The index of one kind of page (persistent or ephemeral): handle to location, with no object per page.
 *
 * <p>Layout, per stored page:
 * <pre>
 *   key       long  objectId &lt;&lt; 32 | index     8 bytes
 *   location  long  see {@link Location}         8 bytes
 *   objPrev   int   previous page of the object   4 bytes
 *   objNext   int   next page of the object       4 bytes   (also the free-list link)
 *   bucket    int   entry id in the probe table   4 bytes at load 1, 4.7-5.7 at the 0.7-0.85 load kept here
 *                                                 ---------
 *                                                 ~29-30 bytes, plus the object table's share
 *   version   long  the client's version of the   8 bytes, in a table made {@code withVersions} only
 *                   last put (persistent pages)
 * </pre>
 * Versions are kept for persistent pages only: they exist for hand-back, which the client compares with its
 * own last write, and only persistent pages are ever handed back; an ephemeral page is dropped, never returned
 * unasked, so its table does not pay the 8 bytes.
 *
 * Entry ids are stable for the life of a page, which is what lets pages be threaded on their object's list
 * (flush_object in O(pages of the object)) and lets the CLOCK hand walk entries in id order. The probe table
 * holds only ids, so moving them in backward-shift deletion is cheap. Entry arrays grow in blocks of
 * {@link #BLOCK_ENTRIES} rather than by doubling, so at most one partly used block is slack.
 * Not thread-safe: the store lock guards it.
 */
final class PageTable {
    static final int NONE = -1;
    /** Entries per block of the entry arrays: 4 Ki entries = 96 KiB per block across the arrays. */
    static final int BLOCK_ENTRIES = 4 * 1024;
    private static final int BLOCK_SHIFT = Integer.numberOfTrailingZeros(BLOCK_ENTRIES);
    private static final int BLOCK_MASK = BLOCK_ENTRIES - 1;
    private static final long FREE_KEY = -1L;
    /** Linear probing stays short at 0.85 because probes compare 6-bit tags in one int array, not keys. */
    private static final double MAX_LOAD = 0.85;
    private static final double RESIZED_LOAD = 0.7;
    private static final int MIN_BUCKETS = 1024;
    /**
     * A bucket holds an entry id in its low {@link #ID_BITS} bits and a 6-bit tag of the key's hash above them.
     * Probing compares tags first and reads an entry's key only on a tag match, so a lookup costs about one
     * cache miss instead of one per probe: the same trick as the H2 byte of Swiss tables, in 6 spare bits.
     */
    private static final int ID_BITS = 26;
    private static final int ID_MASK = (1 << ID_BITS) - 1;
    /** 64 Mi pages of one kind per donor (256 GiB uncompressed); the all-ones bucket value stays NONE. */
    static final int MAX_ENTRIES = ID_MASK - 1;

    private final ObjectTable objects = new ObjectTable();
    private long[][] keys = new long[0][];
    private long[][] locations = new long[0][];
    /** Null in a table without versions. */
    private long[][] versions;
    private int[][] objPrev = new int[0][];
    private int[][] objNext = new int[0][];
    private int[] buckets = emptyBuckets(MIN_BUCKETS);
    private int highWater;
    private int freeHead = NONE;
    private int size;
    private int clockHand;

    /** {@code withVersions}: keep each page's client version (see the class comment). */
    PageTable(boolean withVersions) {
        versions = withVersions ? new long[0][] : null;
    }

    private static int[] emptyBuckets(int n) {
        int[] b = new int[n];
        Arrays.fill(b, NONE);
        return b;
    }

    private static long key(int objectId, int index) {
        return ((long) objectId << 32) | (index & 0xFFFFFFFFL);
    }

    int size() {
        return size;
    }

    /** Objects that have pages here. */
    int objectCount() {
        return objects.size();
    }

    boolean hasObject(int pool, long object) {
        return objects.find(pool, object) != ObjectTable.NONE;
    }

    /** The entry of a handle, or NONE. */
    int find(int pool, long object, int index) {
        int objectId = objects.find(pool, object);
        return objectId == ObjectTable.NONE ? NONE : findKey(key(objectId, index));
    }

    long location(int entry) {
        return locations[entry >>> BLOCK_SHIFT][entry & BLOCK_MASK];
    }

    void setLocation(int entry, long location) {
        locations[entry >>> BLOCK_SHIFT][entry & BLOCK_MASK] = location;
    }

    /** The client's version of the entry's page; 0 in a table without versions. */
    long version(int entry) {
        return versions == null ? 0 : versions[entry >>> BLOCK_SHIFT][entry & BLOCK_MASK];
    }

    /**
     * Adds a handle that is not in the table, with the client's version of the page (dropped by a table without
     * versions); NONE when the table holds {@link #MAX_ENTRIES} pages already.
     */
    int insert(int pool, long object, int index, long location, long version) {
        if (freeHead == NONE && highWater >= MAX_ENTRIES) {
            return NONE;
        }
        if (size + 1 > buckets.length * MAX_LOAD) {
            rehash(Math.max(MIN_BUCKETS, (int) ((size + 1) / RESIZED_LOAD)));
        }
        int objectId = objects.findOrCreate(pool, object);
        int e = newEntry();
        long k = key(objectId, index);
        keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = k;
        locations[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = location;
        if (versions != null) {
            versions[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = version;
        }
        int head = objects.head(objectId);
        setPrev(e, NONE);
        setNext(e, head);
        if (head != NONE) {
            setPrev(head, e);
        }
        objects.setHead(objectId, e);
        objects.addPage(objectId);
        place(e, k);
        size++;
        return e;
    }

    void remove(int e) {
        long k = keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK];
        int objectId = (int) (k >>> 32);
        unplace(e, k);
        int prev = prev(e);
        int next = next(e);
        if (prev != NONE) {
            setNext(prev, next);
        } else {
            objects.setHead(objectId, next);
        }
        if (next != NONE) {
            setPrev(next, prev);
        }
        objects.removePage(objectId);
        keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = FREE_KEY;
        setNext(e, freeHead);
        freeHead = e;
        size--;
    }

    /** First page of an object, or NONE; follow with {@link #nextOfObject}. */
    int firstOfObject(int pool, long object) {
        int objectId = objects.find(pool, object);
        return objectId == ObjectTable.NONE ? NONE : objects.head(objectId);
    }

    int nextOfObject(int entry) {
        return next(entry);
    }

    int[] objectsOf(int pool) {
        return objects.objectsOf(pool);
    }

    int headOfObjectId(int objectId) {
        return objects.head(objectId);
    }

    /** Pages of a pool; walks the object table, for admin paths only. */
    long pagesOf(int pool) {
        long pages = 0;
        for (int objectId : objects.objectsOf(pool)) {
            pages += objects.pages(objectId);
        }
        return pages;
    }

    // ---- entry access by id, for scans that walk entries in id order (hand-back) ----

    /** One past the highest entry id ever used: scans run over 0..highWater-1. */
    int highWater() {
        return highWater;
    }

    boolean isLive(int e) {
        return keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] != FREE_KEY;
    }

    int poolOf(int e) {
        return objects.pool((int) (keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] >>> 32));
    }

    long objectOf(int e) {
        return objects.object((int) (keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] >>> 32));
    }

    int indexOf(int e) {
        return (int) keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK];
    }

    /**
     * The next eviction victim by CLOCK (second chance): a page whose reference bit is clear; pages passed
     * over lose their bit. NONE when the table is empty.
     */
    int clockVictim() {
        if (size == 0) {
            return NONE;
        }
        // Two sweeps suffice: the first clears every bit it passes.
        for (long steps = 0; steps < 2L * highWater + 1; steps++) {
            if (clockHand >= highWater) {
                clockHand = 0;
            }
            int e = clockHand++;
            if (keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] == FREE_KEY) {
                continue;
            }
            long loc = location(e);
            if (Location.referenced(loc)) {
                setLocation(e, Location.withReferenced(loc, false));
            } else {
                return e;
            }
        }
        return NONE;
    }

    long metadataBytes() {
        long blocks = keys.length;
        long perEntry = 8L + 8L + 4L + 4L + (versions == null ? 0 : 8L);
        return blocks * BLOCK_ENTRIES * perEntry + 4L * buckets.length + objects.metadataBytes();
    }

    private static int tag(long hash) {
        return (int) hash & 0x3F;
    }

    private int findKey(long k) {
        int n = buckets.length;
        long h = Hashing.mix(k);
        int tag = tag(h);
        for (int b = Hashing.slot(h, n); ; b = b + 1 == n ? 0 : b + 1) {
            int v = buckets[b];
            if (v == NONE) {
                return NONE;
            }
            int e = v & ID_MASK;
            if (v >>> ID_BITS == tag && keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK] == k) {
                return e;
            }
        }
    }

    private int newEntry() {
        if (freeHead != NONE) {
            int e = freeHead;
            freeHead = next(e);
            return e;
        }
        if (highWater == keys.length * BLOCK_ENTRIES) {
            int blocks = keys.length + 1;
            keys = Arrays.copyOf(keys, blocks);
            locations = Arrays.copyOf(locations, blocks);
            objPrev = Arrays.copyOf(objPrev, blocks);
            objNext = Arrays.copyOf(objNext, blocks);
            keys[blocks - 1] = new long[BLOCK_ENTRIES];
            locations[blocks - 1] = new long[BLOCK_ENTRIES];
            objPrev[blocks - 1] = new int[BLOCK_ENTRIES];
            objNext[blocks - 1] = new int[BLOCK_ENTRIES];
            if (versions != null) {
                versions = Arrays.copyOf(versions, blocks);
                versions[blocks - 1] = new long[BLOCK_ENTRIES];
            }
            Arrays.fill(keys[blocks - 1], FREE_KEY);
        }
        return highWater++;
    }

    private void place(int e, long k) {
        int n = buckets.length;
        long h = Hashing.mix(k);
        int b = Hashing.slot(h, n);
        while (buckets[b] != NONE) {
            b = b + 1 == n ? 0 : b + 1;
        }
        buckets[b] = tag(h) << ID_BITS | e;
    }

    private void unplace(int e, long k) {
        int n = buckets.length;
        long h = Hashing.mix(k);
        int expected = tag(h) << ID_BITS | e;
        int b = Hashing.slot(h, n);
        while (buckets[b] != expected) {
            b = b + 1 == n ? 0 : b + 1;
        }
        int hole = b;
        for (int j = hole + 1 == n ? 0 : hole + 1; buckets[j] != NONE; j = j + 1 == n ? 0 : j + 1) {
            int m = buckets[j];
            int id = m & ID_MASK;
            int home = Hashing.slot(Hashing.mix(keys[id >>> BLOCK_SHIFT][id & BLOCK_MASK]), n);
            // Move m back into the hole only if the hole lies on m's probe path (between home and j, cyclically).
            if (((j - home + n) % n) >= ((j - hole + n) % n)) {
                buckets[hole] = m;
                hole = j;
            }
        }
        buckets[hole] = NONE;
    }

    private void rehash(int n) {
        buckets = emptyBuckets(n);
        for (int e = 0; e < highWater; e++) {
            long k = keys[e >>> BLOCK_SHIFT][e & BLOCK_MASK];
            if (k != FREE_KEY) {
                place(e, k);
            }
        }
    }

    private int prev(int e) {
        return objPrev[e >>> BLOCK_SHIFT][e & BLOCK_MASK];
    }

    private int next(int e) {
        return objNext[e >>> BLOCK_SHIFT][e & BLOCK_MASK];
    }

    private void setPrev(int e, int v) {
        objPrev[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = v;
    }

    private void setNext(int e, int v) {
        objNext[e >>> BLOCK_SHIFT][e & BLOCK_MASK] = v;
    }
}
