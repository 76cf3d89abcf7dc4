package dev.pagepool.agent.cluster;

import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorLoad;
import java.util.Map;

/**
 * One donor as {@code pagepool cluster} shows it. Endpoint, effective budget, use, pages and watermark come from
 * the membership and the load the donor publishes; what it does not publish (the operator's budget, compression,
 * connections, rejections, hand-back) from its STATS. A figure nobody could tell is -1.
 *
 * @param connections      open data connections (each client holds a few per donor)
 * @param compressionRatio raw page bytes over stored bytes, as the donor's {@code pagepool_compression_ratio}
 * @param loadAgeMillis    how old the published load is, -1 if none was published yet
 * @param statsError       why STATS failed, or null
 */
public record DonorRow(
    String name,
    String dataEndpoint,
    int httpPort,
    long operatorBudgetBytes,
    long effectiveBudgetBytes,
    long usedBytes,
    long pages,
    double compressionRatio,
    int watermarkLevel,
    long connections,
    long putsRejected,
    long handedBack,
    long loadAgeMillis,
    String statsError) {

    private static final int PAGE_BYTES = 4096;
    private static final String[] LEVELS = {"NORMAL", "HIGH", "LOW", "MIN"};

    /**
     * Joins the donor's endpoint and its published {@code load} ({@link DonorLoad#UNKNOWN} if none yet) with its
     * STATS ({@code stats} empty when that failed, {@code statsError} then says why).
     */
    public static DonorRow of(DonorInfo donor, DonorLoad load, Map<String, Long> stats, String statsError,
                              long nowMillis) {
        boolean published = load.updatedAtMillis() > 0;
        long stored = stat(stats, "stored_bytes");
        long statPages = stat(stats, "pages");
        double ratio = stored < 0 || statPages < 0 ? -1 : stored == 0 ? 1.0 : (double) statPages * PAGE_BYTES / stored;
        return new DonorRow(
            donor.name(),
            donor.dataAddress(),
            donor.httpPort(),
            stat(stats, "operator_capacity_bytes"),
            published ? load.capacityBytes() : stat(stats, "capacity_bytes"),
            published ? load.usedBytes() : stat(stats, "used_bytes"),
            published ? load.pages() : statPages,
            ratio,
            published ? load.pressureLevel() : (int) stat(stats, "watermark_level"),
            stat(stats, "connections"),
            stat(stats, "puts_rejected"),
            stat(stats, "handed_back"),
            published ? Math.max(0, nowMillis - load.updatedAtMillis()) : -1,
            statsError);
    }

    private static long stat(Map<String, Long> stats, String name) {
        Long v = stats.get(name);
        return v == null ? -1 : v;
    }

    /** NORMAL, HIGH, LOW or MIN; "?" when unknown. */
    public String watermark() {
        return watermarkLevel >= 0 && watermarkLevel < LEVELS.length ? LEVELS[watermarkLevel] : "?";
    }
}
