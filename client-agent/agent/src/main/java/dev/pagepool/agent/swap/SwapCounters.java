package dev.pagepool.agent.swap;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** What the swap store did with the pages it was given. */
public final class SwapCounters {
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder zeroWrites = new LongAdder();
    private final LongAdder spilled = new LongAdder();
    private final LongAdder handedBack = new LongAdder();
    private final LongAdder staleHandBacks = new LongAdder();
    private final LongAdder trimmed = new LongAdder();
    private final LongAdder lost = new LongAdder();
    private final LongAdder readFromDisk = new LongAdder();

    void read(int pages) {
        reads.add(pages);
    }

    void written(int pages, int zeroPages) {
        writes.add(pages);
        zeroWrites.add(zeroPages);
    }

    void spilled() {
        spilled.increment();
    }

    void handBack() {
        handedBack.increment();
    }

    /** A handed-back page older than the slot's last write, or of a slot that left the cluster: not kept. */
    void staleHandBack() {
        staleHandBacks.increment();
    }

    public long staleHandBacks() {
        return staleHandBacks.sum();
    }

    void trimmed(int pages) {
        trimmed.add(pages);
    }

    void readOneFromDisk() {
        readFromDisk.increment();
    }

    void loseOne() {
        lost.increment();
    }

    /** Pages the cluster rejected that went to the disk file. */
    public long spilledToDisk() {
        return spilled.sum();
    }

    /** Pages donors handed back that went to the disk file. */
    public long handedBack() {
        return handedBack.sum();
    }

    /** Pages read back from the disk file. */
    public long readFromDisk() {
        return readFromDisk.sum();
    }

    /** Pages written by the host (zero pages included). */
    public long written() {
        return writes.sum();
    }

    /** Pages read by the host. */
    public long read() {
        return reads.sum();
    }

    /** Reads of slots whose every cluster copy was gone. */
    public long lost() {
        return lost.sum();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("pages_read", reads.sum());
        m.put("pages_written", writes.sum());
        m.put("zero_pages_written", zeroWrites.sum());
        m.put("pages_spilled_to_disk", spilled.sum());
        m.put("pages_handed_back_to_disk", handedBack.sum());
        m.put("stale_hand_backs_refused", staleHandBacks.sum());
        m.put("pages_trimmed", trimmed.sum());
        m.put("pages_lost", lost.sum());
        m.put("pages_read_from_disk", readFromDisk.sum());
        return m;
    }
}
