package dev.pagepool.client;

/**
 * All of the client's control work in one place: the donor watcher (readmission, the stall bound), load polling and
 * re-replication. One thread calls {@link #doWork} with the time: the control thread in production
 * ({@link ControlThread}), the test itself in tests, which step time by hand as Aeron's driver tests do. No duty
 * sleeps or reads a clock of its own, so a test decides when each deadline passes.
 */
final class ClientConductor {
    private final ControlDuty[] duties;
    private volatile Runnable wake = () -> { };

    ClientConductor(ControlDuty... duties) {
        this.duties = duties.clone();
    }

    /** Does every duty's work due at {@code nowNanos}; returns how much was done, 0 when nothing was due. */
    int doWork(long nowNanos) {
        int work = 0;
        for (ControlDuty duty : duties) {
            work += duty.doWork(nowNanos);
        }
        return work;
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
