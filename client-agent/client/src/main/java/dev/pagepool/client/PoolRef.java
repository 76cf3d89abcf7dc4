package dev.pagepool.client;

import dev.pagepool.protocol.PoolSpec;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A pool as the client sees it: one tmem pool made of one pool on each donor in service (their ids differ per
 * donor), with the map of where its extents live. Persistent pools keep {@link #replicas()} copies of every page
 * on distinct donors; ephemeral pools keep one.
 */
public final class PoolRef {
    /** No pool on that donor (yet, or any more). */
    public static final int NO_POOL = PoolMemory.NO_POOL_ID;
    /** The bits of a page's version the pool keeps. */
    private static final long VERSION_MASK = (1L << (8 * PoolMemory.VERSION_BYTES)) - 1;

    private final PoolSpec spec;
    private final int replicas;
    private final AtomicIntegerArray donorPoolIds = new AtomicIntegerArray(DonorIndexes.MAX_DONORS);
    final ExtentMap extents;
    private final OwedFlushes owedFlushes = new OwedFlushes();
    private volatile boolean destroyed;

    PoolRef(PoolSpec spec, int replicas) {
        this(spec, replicas, PoolMemory.onHeap());
    }

    /** A pool whose bookkeeping lives in {@code memory}: the ids it records there are the pool's. */
    PoolRef(PoolSpec spec, int replicas, PoolMemory memory) {
        this.spec = spec;
        this.replicas = replicas;
        this.extents = new ExtentMap(memory);
        for (int d = 0; d < DonorIndexes.MAX_DONORS; d++) {
            donorPoolIds.set(d, memory.poolId(d));
        }
    }

    public PoolSpec spec() {
        return spec;
    }

    public int replicas() {
        return replicas;
    }

    /** The pool's id on donor {@code donor}, or {@link #NO_POOL}. */
    public int idOn(int donor) {
        return donorPoolIds.get(donor);
    }

    /**
     * The low 16 bits of the version the last put of page {@code (object, index)} carried (0 if it carried none,
     * or the page was never put): what a handed-back page's version is compared with, in its low 16 bits too (see
     * {@link #sameVersion}). Call it while no put of the page is under way.
     */
    public long versionOf(long object, int index) {
        synchronized (extents.lock()) {
            int e = extents.find(object, ExtentMap.extentOf(index));
            return e == ExtentMap.NONE ? 0 : extents.version(e, index);
        }
    }

    /**
     * The version that follows the last put of page {@code (object, index)}: a counter per page, so that a page's
     * next version always differs from its last one (0, "none", is skipped). Call it while no put of the page is
     * under way.
     */
    public long nextVersion(long object, int index) {
        synchronized (extents.lock()) {
            return after(object, index);
        }
    }

    /** {@link #nextVersion} of the pages {@code indexes[0..n)} of {@code object}, into {@code versions}. */
    public void nextVersions(long object, int[] indexes, long[] versions, int n) {
        synchronized (extents.lock()) {
            for (int i = 0; i < n; i++) {
                versions[i] = after(object, indexes[i]);
            }
        }
    }

    private long after(long object, int index) {
        int e = extents.find(object, ExtentMap.extentOf(index));
        long next = ((e == ExtentMap.NONE ? 0 : extents.version(e, index)) + 1) & VERSION_MASK;
        return next == 0 ? 1 : next;
    }

    /**
     * Whether {@code version} (a donor's, handed back with a page) is the pool's {@code known} one, in the 16 bits
     * the pool keeps. For a private pool the client has already checked that the donor's copy is one the map
     * trusts with the page, which holds its last version or the one before.
     */
    public static boolean sameVersion(long known, long version) {
        return (known & VERSION_MASK) == (version & VERSION_MASK);
    }

    /** Destroyed by this client: every later call on it is refused with NO_SUCH_POOL. */
    public boolean destroyed() {
        return destroyed;
    }

    void markDestroyed() {
        destroyed = true;
    }

    OwedFlushes owedFlushes() {
        return owedFlushes;
    }

    /** The pool's id on the donor of {@code link}, recorded with the donor's address in the pool's memory. */
    void setIdOn(DonorLink link, int id) {
        synchronized (extents.lock()) {
            extents.memory().donor(link.index, link.addressKey(), id);
        }
        donorPoolIds.set(link.index, id);
    }

    /** No pool on donor {@code donor} any more. */
    void clearIdOn(int donor) {
        synchronized (extents.lock()) {
            extents.memory().donor(donor, "", NO_POOL);
        }
        donorPoolIds.set(donor, NO_POOL);
    }

    /** The memory the pool's bookkeeping lives in. */
    PoolMemory memory() {
        return extents.memory();
    }
}
