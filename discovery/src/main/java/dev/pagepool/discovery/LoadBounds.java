package dev.pagepool.discovery;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Which published loads a view takes. Loads are advisory: any client of the cluster can write the load map, and
 * the view keeps the newest load per donor, so a load dated in the future would win over every real one and pin
 * the donor's figures (drawing or starving placements). A load dated more than {@link #MAX_SKEW_MILLIS} ahead of
 * this clock is ignored and counted; the bound leaves room for ordinary clock skew between hosts.
 */
final class LoadBounds {
    static final long MAX_SKEW_MILLIS = 5_000;
    private static final System.Logger LOG = System.getLogger(LoadBounds.class.getName());

    private final LongSupplier wallClock;
    private final LongAdder ignored = new LongAdder();
    /** Members already named in the log: a donor with a skewed clock would otherwise log every publication. */
    private final Set<UUID> logged = ConcurrentHashMap.newKeySet();

    LoadBounds(LongSupplier wallClock) {
        this.wallClock = wallClock;
    }

    /** Whether {@code load}, published for member {@code uuid}, may be taken; counts and logs it when not. */
    boolean admit(UUID uuid, DonorLoad load) {
        long ahead = load.updatedAtMillis() - wallClock.getAsLong();
        if (ahead <= MAX_SKEW_MILLIS) {
            return true;
        }
        ignored.increment();
        if (logged.add(uuid)) {
            LOG.log(System.Logger.Level.WARNING, "ignored a load published for member " + uuid + ": dated " + ahead
                + " ms ahead of this host's clock, more than the " + MAX_SKEW_MILLIS + " ms allowed (a skewed clock "
                + "on that donor, or a forged load); its earlier load stands");
        }
        return false;
    }

    /** The member left: a later skew of a member with its id is logged again. */
    void forget(UUID uuid) {
        logged.remove(uuid);
    }

    long ignored() {
        return ignored.sum();
    }
}
