package dev.pagepool.node.pressure;

import dev.pagepool.node.store.PageStore;

/**
 * The donor's effective budget: the operator's ({@code PUT /admin/capacity}, or the configured capacity) cut to
 * what the machine can spare. The pressure signals give a headroom relative to the donor's arena (the direct
 * memory it really holds): {@code limit = arena + headroom}, so a machine short by S bytes makes the donor give
 * back S bytes of arena, and when the pressure is gone the limit lifts and the operator's budget holds again.
 * Because the arena is inside the measures the signals read, the limit is stable: filling the arena lowers the
 * headroom by as much.
 *
 * <p>Every change is pushed into the store at once: its capacity, and the ephemeral slab limit at the high
 * watermark.
 */
public final class DonorBudget {
    private final PageStore store;
    private final Watermarks watermarks;
    private long operatorBytes;
    private long signalLimitBytes = PressureSignal.UNCONSTRAINED;
    private volatile long effectiveBytes;

    public DonorBudget(PageStore store, Watermarks watermarks, long operatorBytes) {
        this.store = store;
        this.watermarks = watermarks;
        this.operatorBytes = operatorBytes;
        apply();
    }

    public synchronized void setOperatorBytes(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("capacity must not be negative, got " + bytes);
        }
        operatorBytes = bytes;
        apply();
    }

    /** Applies a combined headroom from the signals; true when the effective budget changed. */
    public synchronized boolean applyHeadroom(long headroomBytes, long arenaBytes) {
        long before = effectiveBytes;
        signalLimitBytes = headroomBytes == PressureSignal.UNCONSTRAINED
            ? PressureSignal.UNCONSTRAINED
            : Math.max(0, saturatingAdd(arenaBytes, headroomBytes));
        apply();
        return effectiveBytes != before;
    }

    public synchronized long operatorBytes() {
        return operatorBytes;
    }

    /** What the signals allow, or -1 when they set no limit. */
    public synchronized long signalLimitBytes() {
        return signalLimitBytes == PressureSignal.UNCONSTRAINED ? -1 : signalLimitBytes;
    }

    public long effectiveBytes() {
        return effectiveBytes;
    }

    public Watermarks watermarks() {
        return watermarks;
    }

    private void apply() {
        long effective = Math.min(operatorBytes, signalLimitBytes);
        effectiveBytes = effective;
        store.setCapacity(effective);
        store.setEphemeralLimit(watermarks.highBytes(effective));
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? (b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : sum;
    }
}
