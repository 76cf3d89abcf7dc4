package dev.pagepool.discovery;

/**
 * How full a donor is, as it last published it (every {@link LoadPublisher#DEFAULT_PERIOD}).
 *
 * @param capacityBytes   the donor's current budget for pages
 * @param usedBytes       bytes of that budget in use
 * @param pressureLevel   0 = none, 1 = above the high watermark (evicting ephemeral), 2 = above low (rejecting
 *                        puts), 3 = above min (handing persistent pages back)
 * @param pages           pages stored
 * @param updatedAtMillis the donor's wall clock when it sampled these figures
 */
public record DonorLoad(long capacityBytes, long usedBytes, int pressureLevel, long pages, long updatedAtMillis) {
    public static final int PRESSURE_NONE = 0;
    public static final int PRESSURE_MAX = 3;

    /** Not yet published: no capacity, so placement never picks such a donor. */
    public static final DonorLoad UNKNOWN = new DonorLoad(0, 0, PRESSURE_NONE, 0, 0);

    public DonorLoad {
        if (capacityBytes < 0 || usedBytes < 0 || pages < 0) {
            throw new IllegalArgumentException("negative load figure");
        }
        if (pressureLevel < PRESSURE_NONE || pressureLevel > PRESSURE_MAX) {
            throw new IllegalArgumentException("pressure level must be 0..3, got " + pressureLevel);
        }
    }

    /** A sample taken now. */
    public static DonorLoad now(long capacityBytes, long usedBytes, int pressureLevel, long pages) {
        return new DonorLoad(capacityBytes, usedBytes, pressureLevel, pages, System.currentTimeMillis());
    }

    public long freeBytes() {
        return Math.max(0, capacityBytes - usedBytes);
    }
}
