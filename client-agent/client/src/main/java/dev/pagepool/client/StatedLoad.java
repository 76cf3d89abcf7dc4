package dev.pagepool.client;

/**
 * What a donor said of its own memory in its last STATS, answered on a connection where it proved who it is: the
 * reference that a load published through the cluster is checked against. Any Hazelcast member can publish a load
 * for any donor, so a published load is advisory: one further from the donor's own word than a quarter of its
 * capacity (at least {@link #MIN_BOUND_BYTES}) is refused. Both are sampled about once a second, so an honest
 * donor's two figures differ by what it took in or gave back meanwhile; one refused for filling faster than that
 * loses nothing, as its own word stands until the next sample.
 */
final class StatedLoad {
    static final long MIN_BOUND_BYTES = 64L << 20;

    private record Sample(long capacityBytes, long freeBytes) {
    }

    /** Null until the donor answered a STATS. */
    private volatile Sample last;
    /** Whether the last refusal was logged: one line per run of refusals, not one a second. */
    private boolean logged;

    void record(long capacityBytes, long freeBytes) {
        last = new Sample(capacityBytes, freeBytes);
    }

    /** Whether the donor has said anything of its memory yet. */
    boolean known() {
        return last != null;
    }

    /** The donor's own free bytes; only when {@link #known}. */
    long freeBytes() {
        return last.freeBytes();
    }

    /** How far a published free memory may be from the donor's own. */
    long boundBytes() {
        Sample s = last;
        return s == null ? Long.MAX_VALUE : Math.max(MIN_BOUND_BYTES, s.capacityBytes() / 4);
    }

    /** Whether {@code publishedFree} may be taken: within the bound of the donor's own word, or nothing to check. */
    boolean admits(long publishedFree) {
        Sample s = last;
        boolean admitted = s == null || Math.abs(publishedFree - s.freeBytes()) <= boundBytes();
        if (admitted) {
            synchronized (this) {
                logged = false;
            }
        }
        return admitted;
    }

    /** Whether a refusal should be logged now: the first of a run of refusals. */
    synchronized boolean logRefusal() {
        boolean first = !logged;
        logged = true;
        return first;
    }
}
