package dev.pagepool.node.store;

/**
 * The handles, versions and tokens of one batch of persistent pages copied out for hand-back, all of one pool; their
 * data went straight into the caller's frame buffer. Made once per sender slot and refilled, so a batch
 * allocates nothing per page.
 */
public final class HandbackPages {
    private final long[] objects;
    private final int[] indexes;
    private final long[] versions;
    private final long[] tokens;
    int pool;
    int count;

    public HandbackPages(int capacity) {
        objects = new long[capacity];
        indexes = new int[capacity];
        versions = new long[capacity];
        tokens = new long[capacity];
    }

    public int capacity() {
        return objects.length;
    }

    public int pool() {
        return pool;
    }

    public int count() {
        return count;
    }

    public long object(int i) {
        return objects[i];
    }

    public int index(int i) {
        return indexes[i];
    }

    /** The client's version of the page, as it came with the put that stored it; goes back in the HANDBACK entry. */
    public long version(int i) {
        return versions[i];
    }

    /** Proves, at {@link PageStore#releaseIfUnchanged}, that the handle still holds the version that was sent. */
    public long token(int i) {
        return tokens[i];
    }

    void clear() {
        count = 0;
        pool = 0;
    }

    void add(long object, int index, long version, long token) {
        objects[count] = object;
        indexes[count] = index;
        versions[count] = version;
        tokens[count] = token;
        count++;
    }
}
