package dev.pagepool.client;

/**
 * A duty's fixed period on the conductor's time: due once every {@code nanos}, measured from the last time it was
 * due. The first call either is due at once or starts the count.
 */
final class Period {
    private final long nanos;
    private final boolean dueAtFirst;
    private boolean started;
    private long lastNanos;

    Period(long nanos, boolean dueAtFirst) {
        this.nanos = nanos;
        this.dueAtFirst = dueAtFirst;
    }

    /** Whether the period is due at {@code nowNanos}; if so, the next one counts from now. */
    boolean due(long nowNanos) {
        if (!started) {
            started = true;
            lastNanos = nowNanos;
            return dueAtFirst;
        }
        if (nowNanos - lastNanos < nanos) {
            return false;
        }
        lastNanos = nowNanos;
        return true;
    }
}
