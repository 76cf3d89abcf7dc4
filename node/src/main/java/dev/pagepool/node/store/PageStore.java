package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The donor's page store: tmem pools' pages in off-heap memory within a byte budget.
 *
 * <p><b>Policy.</b> Pages of persistent pools (frontswap) are kept until flushed: the store never drops one;
 * when it has no room it evicts ephemeral pages and, failing that, rejects the put, and the client keeps the
 * page elsewhere. Pages of ephemeral pools (cleancache) are a cache: when room is needed the coldest go first,
 * chosen by CLOCK (second chance), which approximates LRU with one bit per page and no list to maintain on the
 * read path. Persistent and ephemeral pages live in separate {@link PageTable}s so the CLOCK hand only ever
 * walks pages it may evict. Eviction goes on until the put's size class has a free slot: a victim of another
 * class only leaves a hole for later puts of that class, so under a shifting mix of compressed sizes a put
 * may take several victims; the price of never moving a stored page.
 *
 * <p><b>tmem's rules,</b> enforced here rather than by callers: a put replaces; a rejected put first removes
 * the handle's older version (put-put-get coherency); a get that misses keeps missing until a new put
 * (get-get coherency, which holds because nothing but a put creates a page); an exclusive get removes the page
 * in the same critical section as the read.
 *
 * <p><b>Memory.</b> Data sits in a {@link SlabAllocator}'s direct chunks, compressed by {@link PageCodec}
 * when that saves a size class; the index is primitive arrays (about 30 bytes per page, see
 * {@link PageTable}). Same-filled pages take no slab slot at all.
 *
 * <p><b>Concurrency.</b> One lock. Compression and the same-filled test run before taking it, on the
 * caller's {@link Scratch}; inside, a put is a hash probe, a slot allocation and a copy of the stored bytes,
 * so even with every event loop storing at once the lock is held for well under a microsecond per page.
 */
public final class PageStore implements AutoCloseable {
    public static final int PAGE_SIZE = 4096;
    public static final int STORED = 0;
    public static final int REJECTED = 1;
    public static final int HIT = 0;
    public static final int MISS = 1;

    private final ReentrantLock lock = new ReentrantLock();
    private final PageCodec codec;
    private final SlabAllocator slabs;
    private final PageTable persistent = new PageTable();
    private final PageTable ephemeral = new PageTable();
    private long storedBytes;
    private long sameFilledPages;
    private long compressedPages;
    private long evictions;
    private boolean closed;

    public PageStore(StoreSettings settings) {
        this.codec = new PageCodec(settings.compression());
        this.slabs = new SlabAllocator(settings.capacityBytes(), settings.chunkBytes());
    }

    public Scratch newScratch() {
        return new Scratch(codec.maxCompressedBytes());
    }

    public String compressorName() {
        return codec.name();
    }

    /** Stores the page at {@code src[srcOffset..+4096)}; STORED or REJECTED. */
    public int put(Scratch s, int pool, boolean persistentPool, long object, int index, ByteBuffer src, int srcOffset) {
        Objects.checkFromIndexSize(srcOffset, PAGE_SIZE, src.limit());
        codec.encode(s, src, srcOffset);
        PageTable table = persistentPool ? persistent : ephemeral;
        lock.lock();
        try {
            ensureOpen();
            int existing = table.find(pool, object, index);
            if (existing != PageTable.NONE) {
                removeEntry(table, existing);
            }
            long location;
            long address = -1;
            if (s.encoding == PageCodec.SAME_FILLED) {
                location = Location.of(s.fill & 0xFFFFFFFFL, 0, PageCodec.SAME_FILLED);
                sameFilledPages++;
            } else {
                int sizeClass = SizeClasses.classOf(s.length);
                address = allocate(sizeClass);
                if (address < 0) {
                    return REJECTED;
                }
                ByteBuffer chunk = slabs.chunkOf(address);
                int at = slabs.offsetInChunk(address);
                if (s.encoding == PageCodec.LZ4) {
                    chunk.put(at, s.compressed, 0, s.length);
                    compressedPages++;
                } else {
                    chunk.put(at, src, srcOffset, PAGE_SIZE);
                }
                storedBytes += s.length;
                location = Location.of(address, s.length, s.encoding);
            }
            if (table.insert(pool, object, index, location) == PageTable.NONE) {
                undoStore(s, address);
                return REJECTED;
            }
            return STORED;
        } finally {
            lock.unlock();
        }
    }

    /** Copies the page into {@code dst[dstOffset..+4096)}; HIT or MISS. */
    public int get(Scratch s, int pool, boolean persistentPool, long object, int index, boolean exclusive,
                   ByteBuffer dst, int dstOffset) {
        // Checked before the lock so a bad buffer fails without half an exclusive get done.
        Objects.checkFromIndexSize(dstOffset, PAGE_SIZE, dst.limit());
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("destination buffer is read-only");
        }
        PageTable table = persistentPool ? persistent : ephemeral;
        lock.lock();
        try {
            ensureOpen();
            int e = table.find(pool, object, index);
            if (e == PageTable.NONE) {
                return MISS;
            }
            long loc = table.location(e);
            int encoding = Location.encoding(loc);
            if (encoding == PageCodec.SAME_FILLED) {
                codec.decode(encoding, null, 0, 0, Location.fill(loc), dst, dstOffset);
            } else {
                long address = Location.address(loc);
                codec.decode(encoding, slabs.chunkOf(address), slabs.offsetInChunk(address), Location.length(loc), 0,
                    dst, dstOffset);
            }
            if (exclusive) {
                removeEntry(table, e);
            } else if (!Location.referenced(loc)) {
                table.setLocation(e, Location.withReferenced(loc, true));
            }
            return HIT;
        } finally {
            lock.unlock();
        }
    }

    public boolean flushPage(int pool, boolean persistentPool, long object, int index) {
        PageTable table = persistentPool ? persistent : ephemeral;
        lock.lock();
        try {
            ensureOpen();
            int e = table.find(pool, object, index);
            if (e == PageTable.NONE) {
                return false;
            }
            removeEntry(table, e);
            return true;
        } finally {
            lock.unlock();
        }
    }

    public int flushObject(int pool, boolean persistentPool, long object) {
        PageTable table = persistentPool ? persistent : ephemeral;
        lock.lock();
        try {
            ensureOpen();
            return removeChain(table, table.firstOfObject(pool, object));
        } finally {
            lock.unlock();
        }
    }

    public long destroyPool(int pool, boolean persistentPool) {
        PageTable table = persistentPool ? persistent : ephemeral;
        lock.lock();
        try {
            ensureOpen();
            long removed = 0;
            for (int objectId : table.objectsOf(pool)) {
                removed += removeChain(table, table.headOfObjectId(objectId));
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Changes the budget. Shrinking below use frees nothing by itself: ephemeral pages are evicted as new puts
     * need room, and persistent puts are rejected until use falls below the budget. Persistent pages are never
     * dropped here.
     */
    public void setCapacity(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("capacity must not be negative, got " + bytes);
        }
        lock.lock();
        try {
            slabs.setCapacity(bytes);
        } finally {
            lock.unlock();
        }
    }

    public long capacityBytes() {
        lock.lock();
        try {
            return slabs.capacityBytes();
        } finally {
            lock.unlock();
        }
    }

    public StoreStats stats() {
        lock.lock();
        try {
            long pagesPersistent = persistent.size();
            long pagesEphemeral = ephemeral.size();
            return new StoreStats(slabs.capacityBytes(), slabs.usedBytes(), pagesPersistent + pagesEphemeral,
                pagesPersistent, pagesEphemeral, storedBytes, sameFilledPages, compressedPages, evictions,
                persistent.metadataBytes() + ephemeral.metadataBytes() + slabs.metadataBytes(), slabs.arenaBytes());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees the arena at once rather than when the collector gets to the chunks; the store answers nothing
     * afterwards, since its index would point into freed memory. Closing twice is harmless.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            slabs.release();
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("page store is closed");
        }
    }

    /** A slot of the class, evicting cold ephemeral pages while the budget is spent; -1 if none can be had. */
    private long allocate(int sizeClass) {
        long address = slabs.allocate(sizeClass);
        while (address < 0) {
            int victim = ephemeral.clockVictim();
            if (victim == PageTable.NONE) {
                return -1;
            }
            removeEntry(ephemeral, victim);
            evictions++;
            address = slabs.allocate(sizeClass);
        }
        return address;
    }

    /** Takes back the accounting and the slot of a page that could not be indexed. */
    private void undoStore(Scratch s, long address) {
        if (s.encoding == PageCodec.SAME_FILLED) {
            sameFilledPages--;
            return;
        }
        slabs.free(address);
        storedBytes -= s.length;
        if (s.encoding == PageCodec.LZ4) {
            compressedPages--;
        }
    }

    /** Removes an object's pages, starting at {@code first}; returns how many. */
    private int removeChain(PageTable table, int first) {
        int removed = 0;
        // Removing the last page also removes the object, so read the next link before each removal.
        for (int e = first; e != PageTable.NONE; ) {
            int next = table.nextOfObject(e);
            removeEntry(table, e);
            removed++;
            e = next;
        }
        return removed;
    }

    private void removeEntry(PageTable table, int e) {
        long loc = table.location(e);
        int encoding = Location.encoding(loc);
        if (encoding == PageCodec.SAME_FILLED) {
            sameFilledPages--;
        } else {
            slabs.free(Location.address(loc));
            storedBytes -= Location.length(loc);
            if (encoding == PageCodec.LZ4) {
                compressedPages--;
            }
        }
        table.remove(e);
    }
}
