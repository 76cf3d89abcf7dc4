package dev.pagepool.client;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The client's one control thread: runs the {@link ClientConductor} against the client's clock. When nothing was
 * due it parks for a short bounded time, never past the end of the earliest BUSY pause, or until a reply the
 * conductor waits for (or a new, earlier pause) wakes it; no reply ever waits for this thread, so its pace only
 * decides how soon background work moves on and how late a BUSY pause ends.
 */
final class ControlThread implements AutoCloseable {
    /** A deadline is met this late at most when no reply wakes the thread first. */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final ClientConductor conductor;
    private final NanoClock clock;
    private final Thread thread;
    private volatile boolean running = true;

    ControlThread(ClientConductor conductor, NanoClock clock) {
        this.conductor = conductor;
        this.clock = clock;
        this.thread = ClientThreads.daemon(ClientThreads.CONTROL).newThread(this::run);
        conductor.onWake(() -> LockSupport.unpark(thread));
        thread.start();
    }

    private void run() {
        while (running) {
            int work;
            try {
                work = conductor.doWork(clock.nanoTime());
            } catch (RuntimeException e) {
                // A bug in one duty must not end the others: readmission and re-replication go on.
                java.util.logging.Logger.getLogger(ControlThread.class.getName())
                    .log(java.util.logging.Level.SEVERE, "control work failed", e);
                work = 0;
            }
            if (work == 0) {
                // Never past the end of a BUSY pause: a page's frame waits for it.
                LockSupport.parkNanos(Math.min(IDLE_NANOS, conductor.nanosToNextPause(clock.nanoTime())));
            }
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
    }
}
