package dev.pagepool.client;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The memory a pool's bookkeeping lives in: the extent map's entries and page versions, and the pool's id on each
 * donor. On the heap by default ({@link #onHeap}, growing as extents are placed); or in a region the caller owns
 * ({@link #in}), sized once for a fixed number of extents: a memory-mapped file on tmpfs then keeps the pool's
 * map across the death of the process, so that a restarted process resumes the pool instead of losing it
 * ({@link PagePoolClient#resumePool}). Nothing here allocates per page.
 *
 * <p>Layout of a region, little-endian, every field at its natural alignment:
 * <pre>
 *   0                      header: magic u32, entries in use u32, capacity (entries) u32, reserved
 *   HEADER_BYTES           donor table: MAX_DONORS x DONOR_BYTES
 *                            0  address "host:port", ASCII, u8 length then up to 55 bytes
 *                           56  pool id on that donor, i32 (NO_POOL: none)
 *                           60  reserved
 *   + MAX_DONORS x 64      entries: capacity x ENTRY_BYTES
 *                            0  object u64
 *                            8  extent u32
 *                           12  writes begun u32, 16 writes ended u32 (a difference: a write was under way)
 *                           20  donors 3 x u16 (0xFFFF: no copy)
 *                           26  filling copies, one bit per replica slot, u8
 *                           27  lost u8
 *                           28  reserved u32
 *                           32  pages lost with the extent's last copy u64
 *                           40  stale pages per replica slot 3 x u64 (on a filling copy: pages not yet known
 *                               there, whose hand-back waits for the copy to complete)
 *   + capacity x 64        page versions: capacity x EXTENT_PAGES x u16, the low 16 bits of the caller's version
 * </pre>
 * A field that must change together with another is ordered so that a process that dies between the two stores
 * leaves a state that errs on the safe side (a copy marked filling before it is named, a copy unnamed before its
 * marks are cleared); see {@link ExtentMap}.
 */
public final class PoolMemory {
    static final int MAGIC = 0x50504d33; // "PPM3": 16-bit versions
    static final int HEADER_BYTES = 64;
    static final int DONOR_BYTES = 64;
    static final int MAX_ADDRESS_BYTES = 55;
    static final int ENTRY_BYTES = 64;
    /**
     * A page's version is kept in 16 bits, 3 bytes a page in all with its extent's entry. The version alone never
     * decides whether a handed-back page is current: only a copy the map trusts with the page is compared
     * ({@link ExtentMap#handedBack}), and such a copy holds either the last write of the page or the one before it
     * (a write under way, or one the process died in), so the compare has to tell apart two neighbouring versions,
     * never two 65,536 writes apart.
     */
    static final int VERSION_BYTES = 2;
    /** Pages of an extent: an entry keeps the version of each. */
    static final int EXTENT_PAGES = 64;
    /** Copies an entry names: its donor slots. */
    static final int MAX_REPLICAS = 3;
    /** A donor slot that names no donor (0xFFFF as u16). */
    static final int NO_DONOR = -1;
    /** The donor table's pool id where the pool has no id on that donor. */
    static final int NO_POOL_ID = -1;
    static final int DONORS_OFFSET = HEADER_BYTES;
    static final int ENTRIES_OFFSET = DONORS_OFFSET + DonorIndexes.MAX_DONORS * DONOR_BYTES;

    static final int OBJECT = 0;
    static final int EXTENT = 8;
    static final int WRITES_BEGUN = 12;
    static final int WRITES_ENDED = 16;
    static final int DONOR = 20;
    static final int FILLING = 26;
    static final int LOST = 27;
    static final int LOST_PAGES = 32;
    static final int STALE = 40;

    private static final int SIZE_OFFSET = 4;
    private static final int CAPACITY_OFFSET = 8;
    private static final int POOL_ID = 56;

    private ByteBuffer buf;
    private final boolean grows;

    private PoolMemory(ByteBuffer buf, boolean grows) {
        this.buf = buf.order(ByteOrder.LITTLE_ENDIAN);
        this.grows = grows;
    }

    /** The bytes a region for {@code entries} extents takes. */
    public static long bytesFor(int entries) {
        return ENTRIES_OFFSET + (long) entries * (ENTRY_BYTES + EXTENT_PAGES * (long) VERSION_BYTES);
    }

    /** Bookkeeping on the heap, growing as it needs. */
    public static PoolMemory onHeap() {
        PoolMemory m = new PoolMemory(ByteBuffer.allocate((int) bytesFor(64)), true);
        m.format(64);
        return m;
    }

    /**
     * Bookkeeping in {@code region} (its position to its limit), for at most {@code entries} extents: formatted
     * afresh when {@code fresh}, else read as a previous process left it. A region that is not a pool's, or of
     * another size, is refused.
     */
    public static PoolMemory in(ByteBuffer region, int entries, boolean fresh) {
        if (region.remaining() < bytesFor(entries)) {
            throw new IllegalArgumentException("a region of " + region.remaining() + " bytes cannot hold " + entries
                + " extents (" + bytesFor(entries) + " bytes)");
        }
        PoolMemory m = new PoolMemory(region.slice(), false);
        if (fresh) {
            m.format(entries);
        } else {
            int magic = m.buf.getInt(0);
            int capacity = m.buf.getInt(CAPACITY_OFFSET);
            int size = m.buf.getInt(SIZE_OFFSET);
            if (magic != MAGIC) {
                throw new IllegalStateException("the region holds no pool's bookkeeping (magic " + Integer.toHexString(magic) + ")");
            }
            if (capacity != entries || size < 0 || size > capacity) {
                throw new IllegalStateException("the region was made for " + capacity + " extents with " + size
                    + " in use, not " + entries);
            }
        }
        return m;
    }

    private void format(int entries) {
        buf.putInt(0, MAGIC);
        buf.putInt(SIZE_OFFSET, 0);
        buf.putInt(CAPACITY_OFFSET, entries);
        for (int d = 0; d < DonorIndexes.MAX_DONORS; d++) {
            int at = DONORS_OFFSET + d * DONOR_BYTES;
            buf.put(at, (byte) 0);
            buf.putInt(at + POOL_ID, NO_POOL_ID);
        }
        for (int e = 0; e < entries; e++) {
            for (int k = 0; k < MAX_REPLICAS; k++) {
                buf.putShort(entry(e) + DONOR + 2 * k, (short) NO_DONOR);
            }
        }
    }

    int capacity() {
        return buf.getInt(CAPACITY_OFFSET);
    }

    int size() {
        return buf.getInt(SIZE_OFFSET);
    }

    /** Publishes a new entry count: written after the new entry's fields. */
    void size(int n) {
        buf.putInt(SIZE_OFFSET, n);
    }

    /** Room for entry {@code e}: grows a heap region; a fixed region that is full is an error of its sizing. */
    void ensure(int e) {
        if (e < capacity()) {
            return;
        }
        if (!grows) {
            throw new IllegalStateException("the pool's bookkeeping region holds " + capacity() + " extents; extent "
                + e + " does not fit");
        }
        int n = Math.max(e + 1, capacity() * 2);
        ByteBuffer bigger = ByteBuffer.allocate((int) bytesFor(n)).order(ByteOrder.LITTLE_ENDIAN);
        int old = capacity();
        bigger.put(0, buf, 0, (int) (ENTRIES_OFFSET + (long) old * ENTRY_BYTES));
        bigger.put(versionsOffset(n), buf, versionsOffset(old), old * EXTENT_PAGES * VERSION_BYTES);
        buf = bigger;
        buf.putInt(CAPACITY_OFFSET, n);
        for (int x = old; x < n; x++) {
            for (int k = 0; k < MAX_REPLICAS; k++) {
                buf.putShort(entry(x) + DONOR + 2 * k, (short) NO_DONOR);
            }
        }
    }

    ByteBuffer buffer() {
        return buf;
    }

    static int entry(int e) {
        return ENTRIES_OFFSET + e * ENTRY_BYTES;
    }

    private static int versionsOffset(int capacity) {
        return ENTRIES_OFFSET + capacity * ENTRY_BYTES;
    }

    /** Byte offset of the version of page {@code p} of entry {@code e}. */
    int version(int e, int p) {
        return versionsOffset(capacity()) + (e * EXTENT_PAGES + p) * VERSION_BYTES;
    }

    // ---------------------------------------------------------------- the donor table

    /** The pool's id on donor {@code d}, or NO_POOL. */
    int poolId(int d) {
        return buf.getInt(DONORS_OFFSET + d * DONOR_BYTES + POOL_ID);
    }

    /** Records the donor at index {@code d} and the pool's id there: the address first, the id last. */
    void donor(int d, String addressKey, int poolId) {
        int at = DONORS_OFFSET + d * DONOR_BYTES;
        byte[] a = addressKey.getBytes(StandardCharsets.US_ASCII);
        int n = Math.min(a.length, MAX_ADDRESS_BYTES);
        buf.putInt(at + POOL_ID, NO_POOL_ID);
        buf.put(at + 1, a, 0, n);
        buf.put(at, (byte) n);
        buf.putInt(at + POOL_ID, poolId);
    }

    /** The address of the donor recorded at index {@code d}, or null. */
    String donorAddress(int d) {
        int at = DONORS_OFFSET + d * DONOR_BYTES;
        int n = buf.get(at) & 0xFF;
        if (n == 0) {
            return null;
        }
        byte[] a = new byte[Math.min(n, MAX_ADDRESS_BYTES)];
        buf.get(at + 1, a);
        return new String(a, StandardCharsets.US_ASCII);
    }
}
