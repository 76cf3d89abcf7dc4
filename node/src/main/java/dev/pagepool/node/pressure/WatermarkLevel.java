package dev.pagepool.node.pressure;

/**
 * How full a donor is against its watermarks. The number is what the donor publishes to the cluster
 * (DonorLoad.pressure) and reports as {@code watermark_level}: placement prefers lower numbers.
 */
public enum WatermarkLevel {
    /** Below high: everything is accepted. */
    NORMAL,
    /** At or above high: ephemeral puts recycle cold ephemeral pages; a background sweep evicts down below high. */
    HIGH,
    /** At or above low: new puts are rejected, ephemeral pages dropped; readiness DOWN. */
    LOW,
    /** Above min, or the budget shrunk below use: persistent pages are handed back until use is below low. */
    MIN;

    public int number() {
        return ordinal();
    }

    /** Not a good placement target: live, but its readiness check is DOWN. */
    public boolean refusesPuts() {
        return this == LOW || this == MIN;
    }
}
