package dev.pagepool.node.pressure;

import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.store.PageStore;
import org.jboss.logging.Logger;

/**
 * Enforces the watermarks: knows the donor's level, admits or refuses put frames, and on every pressure period
 * (and at once after a budget change) does what the level asks:
 * <ul>
 * <li>HIGH and above: evict cold ephemeral pages down below the high watermark, in bounded steps;
 * <li>MIN: start handing persistent pages back, coldest first, until use is below the low watermark;
 * <li>always: give empty arena chunks back to the OS while the arena is above the budget.
 * </ul>
 * Put admission reads the live level (one store lock per put frame, never per page), so a donor that crosses
 * low between periods rejects the next frame, not the one after the next sample. A draining donor refuses
 * every put whatever its level.
 */
public final class WatermarkGuard {
    private static final Logger LOG = Logger.getLogger(WatermarkGuard.class);
    /** Ephemeral pages evicted per store lock hold; the loop below repeats it up to {@link #EVICT_ROUNDS} times. */
    static final int EVICT_BATCH_PAGES = 4096;
    /** Bounds one period's eviction (64 Ki pages, 256 MiB raw) so the sampler thread never runs away. */
    static final int EVICT_ROUNDS = 16;

    private final PageStore store;
    private final DonorBudget budget;
    private final HandbackSender sender;
    private volatile boolean draining;
    private WatermarkLevel lastLogged = WatermarkLevel.NORMAL;

    public WatermarkGuard(PageStore store, DonorBudget budget, HandbackSender sender) {
        this.store = store;
        this.budget = budget;
        this.sender = sender;
    }

    /** The level now, from the store's slab use against the effective budget. */
    public WatermarkLevel level() {
        return budget.watermarks().level(store.usedBytes(), budget.effectiveBytes());
    }

    /** Once per put frame: false at LOW or MIN, or while draining. */
    public boolean admitsPuts() {
        return !draining && !level().refusesPuts();
    }

    public boolean draining() {
        return draining;
    }

    /** From now on every put is refused and readiness is DOWN; there is no way back but a restart. */
    public void startDrain() {
        draining = true;
    }

    /** One round of enforcement; called by the pressure sampler and after the operator changes the budget. */
    public synchronized WatermarkLevel enforce() {
        long capacity = budget.effectiveBytes();
        Watermarks marks = budget.watermarks();
        WatermarkLevel level = level();
        logTransition(level);
        if (level.compareTo(WatermarkLevel.HIGH) >= 0) {
            long target = marks.highBytes(capacity);
            for (int round = 0; round < EVICT_ROUNDS; round++) {
                if (store.evictEphemeral(target, EVICT_BATCH_PAGES) < EVICT_BATCH_PAGES) {
                    break;
                }
            }
        }
        if (level() == WatermarkLevel.MIN) {
            sender.handBackUntilBelow(marks.lowBytes(capacity));
        } else if (store.usedBytes() < marks.lowBytes(capacity)) {
            sender.stopPressure();
        }
        store.trimArena();
        return level;
    }

    private void logTransition(WatermarkLevel level) {
        if (level != lastLogged) {
            LOG.infof("watermark level %s -> %s (used %d of %d bytes)", lastLogged, level, store.usedBytes(),
                budget.effectiveBytes());
            lastLogged = level;
        }
    }
}
