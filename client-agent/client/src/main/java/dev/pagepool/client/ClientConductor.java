package dev.pagepool.client;

/**
 * All of the client's control work in one place: the BUSY pauses, the donor watcher (readmission, the stall bound),
 * load polling and re-replication. One thread calls {@link #doWork} with the time: the control thread in production
 * ({@link ControlThread}), the test itself in tests, which step time by hand as Aeron's driver tests do. No duty
 * sleeps or reads a clock of its own, so a test decides when each deadline passes.
 *
 * <p>A BUSY pause may hold up a page fault, so it never waits behind the other work: the pauses are served first,
 * and again after each other duty at the client's clock as it reads then (a test's stepped clock reads what the
 * test set), so a pause that ended while a duty ran waits for that one duty at most.
 */
final class ClientConductor {
    private final NanoClock clock;
    private final BusyPauses pauses;
    private final ControlDuty[] duties;
    private volatile Runnable wake = () -> { };

    ClientConductor(NanoClock clock, BusyPauses pauses, ControlDuty... duties) {
        this.clock = clock;
        this.pauses = pauses;
        this.duties = duties.clone();
    }

    /** Does every duty's work due at {@code nowNanos}; returns how much was done, 0 when nothing was due. */
    int doWork(long nowNanos) {
        int work = pauses.doWork(nowNanos);
        for (ControlDuty duty : duties) {
            work += duty.doWork(nowNanos);
            work += pauses.doWork(Math.max(nowNanos, clock.nanoTime()));
        }
        return work;
    }

    /** How long the thread running this may sleep at {@code nowNanos} before a BUSY pause ends; MAX_VALUE: none waits. */
    long nanosToNextPause(long nowNanos) {
        return pauses.nanosToNext(nowNanos);
    }

    /** Called by a reply a duty waits for, so that the thread running the conductor acts on it without delay. */
    void wake() {
        wake.run();
    }

    /** What {@link #wake} does: unparks the control thread; nothing when a test calls {@link #doWork} itself. */
    void onWake(Runnable action) {
        this.wake = action;
    }
}
