package dev.pagepool.node.store;

import io.netty.util.collection.IntObjectHashMap;
import java.nio.ByteBuffer;
import java.util.Arrays;
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
 * when that saves a size class; the index is primitive arrays (about 30 bytes per page, and 8 more for the
 * client's version of a persistent page, see {@link PageTable}). Same-filled pages take no slab slot at all.
 *
 * <p><b>Pressure.</b> The store holds the mechanisms, the pressure package the policy: ephemeral puts may be kept
 * below a lower slab limit than the budget ({@link #setEphemeralLimit}, the high watermark), cold ephemeral pages
 * can be evicted down to a target ({@link #evictEphemeral}), and cold persistent pages can be copied out for
 * hand-back ({@link #takeForHandback}) and freed only once the client has acknowledged them, and only if the
 * handle still holds the version that was sent ({@link #releaseIfUnchanged}); see {@link HandbackLedger}.
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
    private final PageTable persistent = new PageTable(true);
    private final PageTable ephemeral = new PageTable(false);
    private long storedBytes;
    private long sameFilledPages;
    private long compressedPages;
    private long evictions;
    private boolean closed;
    /** Slab limit for ephemeral puts: above it they recycle ephemeral slots rather than take new slabs. */
    private long ephemeralLimitBytes = Long.MAX_VALUE;
    private final HandbackLedger handbackLedger = new HandbackLedger();
    /** Pages the index may hold at most (persistent and ephemeral together); see {@link PageIndexBudget}. */
    private final long maxPages;
    private long indexFullRejections;
    /**
     * Per pool id: its pages ({@link #PAGES}, for per-client limits) and those of them out for hand-back
     * ({@link #IN_FLIGHT}, so a hand-back link learns it has nothing to take without a scan). One array per pool,
     * nothing per page.
     */
    private final IntObjectHashMap<long[]> poolPages = new IntObjectHashMap<>();
    private static final int PAGES = 0;
    private static final int IN_FLIGHT = 1;
    /** Entries the hand-back hand has looked at, over the store's life: what hand-back costs under the lock. */
    private long handbackEntriesExamined;
    /** Source of hand-back tokens; 0 is {@link HandbackLedger#NO_TOKEN}. */
    private long handbackSequence;
    /** Where the next hand-back scan of the persistent table starts: a CLOCK hand of its own. */
    private int handbackHand;

    public PageStore(StoreSettings settings) {
        this.codec = new PageCodec(settings.compression());
        this.slabs = new SlabAllocator(settings.capacityBytes(), settings.chunkBytes());
        this.maxPages = settings.maxPages();
    }

    public Scratch newScratch() {
        return new Scratch(codec.maxCompressedBytes());
    }

    public String compressorName() {
        return codec.name();
    }

    /**
     * Stores the page at {@code src[srcOffset..+4096)} with the client's opaque {@code version} of it; STORED or
     * REJECTED. A persistent page keeps the version (whatever its encoding, same-filled pages included) and
     * hands it back with the page; an ephemeral page is never handed back, so its version is not kept.
     */
    public int put(Scratch s, int pool, boolean persistentPool, long object, int index, long version,
                   ByteBuffer src, int srcOffset) {
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
            if (!indexHasRoom(table, pool, object)) {
                indexFullRejections++;
                return REJECTED;
            }
            long location;
            long address = -1;
            if (s.encoding == PageCodec.SAME_FILLED) {
                location = Location.of(s.fill & 0xFFFFFFFFL, 0, PageCodec.SAME_FILLED);
                sameFilledPages++;
            } else {
                int sizeClass = SizeClasses.classOf(s.length);
                address = allocate(sizeClass, persistentPool ? Long.MAX_VALUE : ephemeralLimitBytes);
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
            if (table.insert(pool, object, index, location, version) == PageTable.NONE) {
                undoStore(s, address);
                return REJECTED;
            }
            countPage(pool, 1);
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
            decode(loc, dst, dstOffset);
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

    /**
     * Slab limit for ephemeral puts (the high watermark, in bytes): above it an ephemeral put takes a free slot
     * of a slab already held or evicts a cold ephemeral page, never a new slab, so ephemeral pages do not crowd
     * out persistent ones. {@code Long.MAX_VALUE} lifts the limit.
     */
    public void setEphemeralLimit(long bytes) {
        lock.lock();
        try {
            ephemeralLimitBytes = Math.max(0, bytes);
        } finally {
            lock.unlock();
        }
    }

    /** Gives empty arena chunks back to the OS while the arena is above the budget; returns the bytes freed. */
    public long trimArena() {
        lock.lock();
        try {
            return closed ? 0 : slabs.trim();
        } finally {
            lock.unlock();
        }
    }

    /** Direct memory the arena holds (slabs in use and free ones): what the process really keeps for pages. */
    public long arenaBytes() {
        lock.lock();
        try {
            return slabs.arenaBytes();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The arena and the chunk zeroed ahead for its next growth: all the direct memory the store holds. Pressure
     * signals measure the machine with that chunk already taken, so they must count it as the store's.
     */
    public long residentBytes() {
        lock.lock();
        try {
            return slabs.arenaBytes() + slabs.readyBytes();
        } finally {
            lock.unlock();
        }
    }

    /** Slab bytes in use: what counts against the budget. Cheap, for once-per-frame admission checks. */
    public long usedBytes() {
        lock.lock();
        try {
            return slabs.usedBytes();
        } finally {
            lock.unlock();
        }
    }

    public long persistentPages() {
        lock.lock();
        try {
            return persistent.size();
        } finally {
            lock.unlock();
        }
    }

    /** Persistent pages of one pool; walks the object table, for drain reports only. */
    public long persistentPagesOf(int pool) {
        lock.lock();
        try {
            return persistent.pagesOf(pool);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Evicts cold ephemeral pages (CLOCK order) while slab use is above {@code targetUsedBytes}, at most
     * {@code maxPages} in this call so the lock is held briefly; returns how many went. A negative target drops
     * every ephemeral page. Freed slots free a slab only when it empties, so use may fall by less than the pages.
     */
    public int evictEphemeral(long targetUsedBytes, int maxPages) {
        lock.lock();
        try {
            ensureOpen();
            int evicted = 0;
            while (evicted < maxPages && slabs.usedBytes() > targetUsedBytes) {
                int victim = ephemeral.clockVictim();
                if (victim == PageTable.NONE) {
                    break;
                }
                removeEntry(ephemeral, victim);
                evicted++;
            }
            evictions += evicted;
            return evicted;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Copies up to {@code pages.capacity()} cold persistent pages of ONE of the pools {@code pools[0..poolCount)}
     * (sorted) into a frame being built: page i's 4096 uncompressed bytes go to
     * {@code dst[firstDataOffset + i * stride]}, its handle, the version of its last put and its token to
     * {@code pages}. Pages already in flight are skipped. Nothing is freed: each page stays readable until
     * {@link #releaseIfUnchanged} (client said it holds it) or {@link #forgetHandback} (no answer; it may be sent
     * again). Returns the number of pages.
     *
     * <p>Order: a CLOCK hand of its own walks the persistent table; with {@code secondChance} a page read since
     * the hand last passed keeps its place once (its bit is cleared), so the coldest go first; a drain passes
     * false and takes everything. Pages of other eligible pools are passed over without losing their bit, and the
     * hand comes back to the first of them next time, so each pool gets its turn in hand order.
     *
     * <p>Cost: every connected owner's link asks whenever a frame comes free, and the walk holds the store's lock,
     * so it must not cost a lap of the table to learn there is nothing to take. The pools' counts of pages not in
     * flight answer that without a walk, and the walk ends once it has taken every such page or passed each of them
     * twice (a page whose bit was cleared is taken the second time).
     */
    public int takeForHandback(int[] pools, int poolCount, boolean secondChance, HandbackPages pages, ByteBuffer dst,
                               int firstDataOffset, int stride) {
        Objects.checkFromIndexSize(firstDataOffset, (pages.capacity() - 1) * stride + PAGE_SIZE, dst.limit());
        pages.clear();
        lock.lock();
        try {
            ensureOpen();
            long candidates = handbackCandidates(pools, poolCount);
            int max = (int) Math.min(Math.min(pages.capacity(), handbackLedger.free()), candidates);
            int highWater = persistent.highWater();
            if (max == 0) {
                return 0;
            }
            int hand = handbackHand;
            int resumeAt = -1;
            long seen = 0;
            long steps = 2L * highWater + 1;
            for (; steps > 0 && pages.count < max && seen < 2 * candidates; steps--) {
                if (hand >= highWater) {
                    hand = 0;
                }
                int e = hand++;
                if (!persistent.isLive(e)) {
                    continue;
                }
                int pool = persistent.poolOf(e);
                if (handbackLedger.token(e) != HandbackLedger.NO_TOKEN || !eligible(pools, poolCount, pool)) {
                    continue;
                }
                seen++;
                if (pages.count > 0 && pool != pages.pool) {
                    if (resumeAt < 0) {
                        resumeAt = e;
                    }
                    continue;
                }
                long loc = persistent.location(e);
                if (secondChance && Location.referenced(loc)) {
                    persistent.setLocation(e, Location.withReferenced(loc, false));
                    continue;
                }
                decode(loc, dst, firstDataOffset + pages.count * stride);
                long token = ++handbackSequence;
                handbackLedger.put(e, token);
                poolPages.get(pool)[IN_FLIGHT]++;
                pages.pool = pool;
                pages.add(persistent.objectOf(e), persistent.indexOf(e), persistent.version(e), token);
            }
            handbackEntriesExamined += 2L * highWater + 1 - steps;
            handbackHand = resumeAt >= 0 ? resumeAt : hand;
            return pages.count;
        } finally {
            lock.unlock();
        }
    }

    /** Persistent pages of the pools {@code pools[0..poolCount)} that are not out for hand-back already. */
    public long handbackCandidates(int[] pools, int poolCount) {
        lock.lock();
        try {
            long candidates = 0;
            for (int i = 0; i < poolCount; i++) {
                long[] count = poolPages.get(pools[i]);
                if (count != null) {
                    candidates += count[PAGES] - count[IN_FLIGHT];
                }
            }
            return candidates;
        } finally {
            lock.unlock();
        }
    }

    /** Entries of the persistent table the hand-back hand has looked at so far. */
    public long handbackEntriesExamined() {
        lock.lock();
        try {
            return handbackEntriesExamined;
        } finally {
            lock.unlock();
        }
    }

    private static boolean eligible(int[] pools, int poolCount, int pool) {
        return Arrays.binarySearch(pools, 0, poolCount, pool) >= 0;
    }

    /**
     * The client acknowledged a handed-back page (it holds it now): frees it if the handle still holds the very
     * version sent under {@code token}; a newer put, a flush or a destroy since then leaves the handle as it is.
     * True when a page was freed.
     */
    public boolean releaseIfUnchanged(int pool, long object, int index, long token) {
        lock.lock();
        try {
            ensureOpen();
            int e = persistent.find(pool, object, index);
            if (e == PageTable.NONE || handbackLedger.token(e) != token) {
                return false;
            }
            removeEntry(persistent, e);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The page was not taken (client refused, no answer, connection gone): it stays, and may be sent again. */
    public void forgetHandback(int pool, long object, int index, long token) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            int e = persistent.find(pool, object, index);
            if (e != PageTable.NONE && handbackLedger.token(e) == token) {
                handbackLedger.remove(e);
                poolPages.get(pool)[IN_FLIGHT]--;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Pages copied out for hand-back and not yet acknowledged or forgotten. */
    public int handbackInFlight() {
        lock.lock();
        try {
            return handbackLedger.size();
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
                persistent.metadataBytes() + ephemeral.metadataBytes() + slabs.metadataBytes(), slabs.arenaBytes(),
                slabs.readyBytes(), slabs.inlineGrowths());
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
    private long allocate(int sizeClass, long slabLimitBytes) {
        long address = slabs.allocate(sizeClass, slabLimitBytes);
        while (address < 0) {
            int victim = ephemeral.clockVictim();
            if (victim == PageTable.NONE) {
                return -1;
            }
            removeEntry(ephemeral, victim);
            evictions++;
            address = slabs.allocate(sizeClass, slabLimitBytes);
        }
        return address;
    }

    private void decode(long loc, ByteBuffer dst, int dstOffset) {
        int encoding = Location.encoding(loc);
        if (encoding == PageCodec.SAME_FILLED) {
            codec.decode(encoding, null, 0, 0, Location.fill(loc), dst, dstOffset);
        } else {
            long address = Location.address(loc);
            codec.decode(encoding, slabs.chunkOf(address), slabs.offsetInChunk(address), Location.length(loc), 0,
                dst, dstOffset);
        }
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

    /**
     * Room in the index for one more page of the object, evicting cold ephemeral pages if it is full: a same-filled
     * page takes no slab, so the slab budget alone would never stop a flood of them. A page that makes a new object
     * needs room for the object too (see {@link PageIndexBudget}).
     */
    private boolean indexHasRoom(PageTable table, int pool, long object) {
        while (!indexFits(table, pool, object)) {
            int victim = ephemeral.clockVictim();
            if (victim == PageTable.NONE) {
                return false;
            }
            removeEntry(ephemeral, victim);
            evictions++;
        }
        return true;
    }

    private boolean indexFits(PageTable table, int pool, long object) {
        long pages = (long) persistent.size() + ephemeral.size();
        if (pages >= maxPages) {
            return false;
        }
        long cap = maxPages * PageIndexBudget.BYTES_PER_PAGE;
        // As if the page made a new object: true for nearly every put, without a lookup of its object.
        if (PageIndexBudget.indexBytes(pages + 1, persistent.objectCount() + 1, ephemeral.objectCount() + 1) <= cap) {
            return true;
        }
        int newObject = table.hasObject(pool, object) ? 0 : 1;
        int persistentObjects = persistent.objectCount() + (table == persistent ? newObject : 0);
        int ephemeralObjects = ephemeral.objectCount() + (table == ephemeral ? newObject : 0);
        return PageIndexBudget.indexBytes(pages + 1, persistentObjects, ephemeralObjects) <= cap;
    }

    private void countPage(int pool, int delta) {
        long[] count = poolPages.get(pool);
        if (count == null) {
            count = new long[2];
            poolPages.put(pool, count);
        }
        count[PAGES] += delta;
        if (count[PAGES] <= 0) {
            poolPages.remove(pool);
        }
    }

    /** Pages stored in the pools {@code pools[0..n)}, persistent and ephemeral. */
    public long pagesInPools(int[] pools, int n) {
        lock.lock();
        try {
            long pages = 0;
            for (int i = 0; i < n; i++) {
                long[] count = poolPages.get(pools[i]);
                pages += count == null ? 0 : count[PAGES];
            }
            return pages;
        } finally {
            lock.unlock();
        }
    }

    /** The page cap of the index. */
    public long maxPages() {
        return maxPages;
    }

    /** Puts rejected because the index held {@link #maxPages} pages and no ephemeral page could make room. */
    public long indexFullRejections() {
        lock.lock();
        try {
            return indexFullRejections;
        } finally {
            lock.unlock();
        }
    }

    private void removeEntry(PageTable table, int e) {
        int pool = table.poolOf(e);
        // Any change to a persistent page (replace, flush, exclusive get, destroy, release) ends its hand-back
        // record: a later acknowledgement of the copy in flight must then free nothing.
        if (table == persistent && handbackLedger.size() > 0 && handbackLedger.remove(e)) {
            poolPages.get(pool)[IN_FLIGHT]--;
        }
        countPage(pool, -1);
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
