package dev.pagepool.node.pressure;

import java.util.ArrayList;
import java.util.List;

/**
 * The three watermarks as fractions of the effective budget (the kernel's names, from its zone watermarks:
 * crossing "high" is the first warning, "min" the last). The level of a donor follows from its slab use:
 * NORMAL below {@code high}, HIGH from {@code high}, LOW from {@code low}, MIN above {@code min} (with the
 * default 1.0: only when the budget was shrunk below use, since puts never take more than the budget).
 *
 * @param high fraction above which ephemeral pages make way (default 0.85)
 * @param low  fraction above which puts are rejected (default 0.95)
 * @param min  fraction above which persistent pages are handed back (default 1.0)
 */
public record Watermarks(double high, double low, double min) {
    public static final Watermarks DEFAULT = new Watermarks(0.85, 0.95, 1.0);

    /** What is wrong with these fractions, for {@code NodeSettings}' list of problems; empty when usable. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (!(high > 0 && high < low && low <= min && min <= 1.0)) {
            problems.add("pagepool.watermark.* must satisfy 0 < high < low <= min <= 1.0, got high=" + high
                + ", low=" + low + ", min=" + min);
        }
        return problems;
    }

    public long highBytes(long capacity) {
        return bytes(high, capacity);
    }

    public long lowBytes(long capacity) {
        return bytes(low, capacity);
    }

    public long minBytes(long capacity) {
        return bytes(min, capacity);
    }

    public WatermarkLevel level(long usedBytes, long capacityBytes) {
        if (usedBytes <= 0) {
            return WatermarkLevel.NORMAL;
        }
        if (capacityBytes <= 0 || usedBytes > minBytes(capacityBytes)) {
            return WatermarkLevel.MIN;
        }
        if (usedBytes >= lowBytes(capacityBytes)) {
            return WatermarkLevel.LOW;
        }
        return usedBytes >= highBytes(capacityBytes) ? WatermarkLevel.HIGH : WatermarkLevel.NORMAL;
    }

    private static long bytes(double fraction, long capacity) {
        return (long) Math.floor(fraction * Math.max(0, capacity));
    }

    @Override
    public String toString() {
        return "watermarks high=" + high + " low=" + low + " min=" + min;
    }
}
