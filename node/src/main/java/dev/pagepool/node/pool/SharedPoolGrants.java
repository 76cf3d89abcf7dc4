package dev.pagepool.node.pool;

import java.util.Arrays;

/**
 * The shared pools one connection has presented the UUID of. A connection joins a handful of shared pools at
 * most, so a small sorted int array beats a hash set of boxed ids, and a lookup per frame allocates nothing.
 */
public final class SharedPoolGrants {
    /** A client joining more shared pools than this on one connection is misbehaving; refuse rather than grow. */
    public static final int MAX_SHARED_POOLS_PER_CONNECTION = 1024;

    private int[] ids = new int[4];
    private int size;

    public boolean contains(int poolId) {
        return Arrays.binarySearch(ids, 0, size, poolId) >= 0;
    }

    /** False when the connection already holds the maximum number of grants. */
    public boolean add(int poolId) {
        int at = Arrays.binarySearch(ids, 0, size, poolId);
        if (at >= 0) {
            return true;
        }
        if (size == MAX_SHARED_POOLS_PER_CONNECTION) {
            return false;
        }
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        int insert = -at - 1;
        System.arraycopy(ids, insert, ids, insert + 1, size - insert);
        ids[insert] = poolId;
        size++;
        return true;
    }

    public void remove(int poolId) {
        int at = Arrays.binarySearch(ids, 0, size, poolId);
        if (at >= 0) {
            System.arraycopy(ids, at + 1, ids, at, size - at - 1);
            size--;
        }
    }
}
