package dev.pagepool.node.store;

import java.util.Arrays;

/**
 * Maps (pool, object) to a small object id, and keeps for each object the head of the list of its pages and
 * their count. Page entries carry the object id instead of the 96-bit (pool, object) pair, and flush_object
 * walks the object's list instead of the whole store.
 *
 * <p>Open addressing with linear probing over an int array of object ids; ids are stable (they index the
 * parallel arrays) and are recycled through a free list. Not thread-safe: the store lock guards it.
 */
final class ObjectTable {
    static final int NONE = -1;
    /** The page count of an id on the free list: tells free ids from live objects that have no page yet. */
    private static final int FREE = -1;
    /** Objects the table holds in the arrays it starts with: their memory is spent whatever the pages. */
    static final int INITIAL_CAPACITY = 64;
    private static final double MAX_LOAD = 0.8;
    private static final double RESIZED_LOAD = 0.6;

    private int[] pool = new int[INITIAL_CAPACITY];
    private long[] object = new long[INITIAL_CAPACITY];
    private int[] head = new int[INITIAL_CAPACITY];
    private int[] count = new int[INITIAL_CAPACITY];
    private int[] freeNext = new int[INITIAL_CAPACITY];
    private int[] buckets = filled((int) (INITIAL_CAPACITY / RESIZED_LOAD));
    private int highWater;
    private int freeHead = NONE;
    private int size;

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, NONE);
        return a;
    }

    private static long hash(int poolId, long objectId) {
        return Hashing.mix(objectId * 0x9E3779B97F4A7C15L + poolId);
    }

    /** Live objects. */
    int size() {
        return size;
    }

    int find(int poolId, long objectId) {
        int n = buckets.length;
        for (int b = Hashing.slot(hash(poolId, objectId), n); ; b = b + 1 == n ? 0 : b + 1) {
            int id = buckets[b];
            if (id == NONE) {
                return NONE;
            }
            if (object[id] == objectId && pool[id] == poolId) {
                return id;
            }
        }
    }

    /** The id of (pool, object), created with no pages if it did not exist. */
    int findOrCreate(int poolId, long objectId) {
        int id = find(poolId, objectId);
        if (id != NONE) {
            return id;
        }
        if (size + 1 > buckets.length * MAX_LOAD) {
            rehash((int) ((size + 1) / RESIZED_LOAD) + 1);
        }
        id = newId();
        pool[id] = poolId;
        object[id] = objectId;
        head[id] = NONE;
        count[id] = 0;
        place(id);
        size++;
        return id;
    }

    int head(int id) {
        return head[id];
    }

    void setHead(int id, int entry) {
        head[id] = entry;
    }

    int pool(int id) {
        return pool[id];
    }

    long object(int id) {
        return object[id];
    }

    int pages(int id) {
        return count[id];
    }

    void addPage(int id) {
        count[id]++;
    }

    /** Drops one page from the object and the object itself when it was its last. */
    void removePage(int id) {
        if (--count[id] == 0) {
            remove(id);
        }
    }

    /** Ids of the live objects of a pool; used by destroy_pool, which is rare enough for a scan. */
    int[] objectsOf(int poolId) {
        int[] found = new int[16];
        int n = 0;
        for (int b : buckets) {
            if (b != NONE && pool[b] == poolId) {
                if (n == found.length) {
                    found = Arrays.copyOf(found, n * 2);
                }
                found[n++] = b;
            }
        }
        return Arrays.copyOf(found, n);
    }

    long metadataBytes() {
        return 4L * pool.length + 8L * object.length + 4L * head.length + 4L * count.length + 4L * freeNext.length
            + 4L * buckets.length;
    }

    private int newId() {
        if (freeHead != NONE) {
            int id = freeHead;
            freeHead = freeNext[id];
            return id;
        }
        if (highWater == pool.length) {
            int n = pool.length * 2;
            pool = Arrays.copyOf(pool, n);
            object = Arrays.copyOf(object, n);
            head = Arrays.copyOf(head, n);
            count = Arrays.copyOf(count, n);
            freeNext = Arrays.copyOf(freeNext, n);
        }
        return highWater++;
    }

    private void place(int id) {
        int n = buckets.length;
        int b = Hashing.slot(hash(pool[id], object[id]), n);
        while (buckets[b] != NONE) {
            b = b + 1 == n ? 0 : b + 1;
        }
        buckets[b] = id;
    }

    private void remove(int id) {
        int n = buckets.length;
        int b = Hashing.slot(hash(pool[id], object[id]), n);
        while (buckets[b] != id) {
            b = b + 1 == n ? 0 : b + 1;
        }
        // Backward-shift deletion: pull later members of the probe run into the hole so no tombstones pile up.
        int hole = b;
        for (int j = hole + 1 == n ? 0 : hole + 1; buckets[j] != NONE; j = j + 1 == n ? 0 : j + 1) {
            int home = Hashing.slot(hash(pool[buckets[j]], object[buckets[j]]), n);
            if (((j - home + n) % n) >= ((j - hole + n) % n)) {
                buckets[hole] = buckets[j];
                hole = j;
            }
        }
        buckets[hole] = NONE;
        freeNext[id] = freeHead;
        freeHead = id;
        count[id] = FREE;
        size--;
    }

    private void rehash(int n) {
        buckets = filled(n);
        for (int id = 0; id < highWater; id++) {
            if (count[id] != FREE) {
                place(id);
            }
        }
    }
}
