package dev.pagepool.agent.cli;

/**
 * A one-line progress bar on stderr, redrawn at most every {@link #REDRAW_MILLIS}; silent when stderr is not a
 * terminal or when machine-readable output was asked for, so logs and pipes get no carriage returns.
 */
final class ProgressBar implements AutoCloseable {
    private static final long REDRAW_MILLIS = 200;
    private static final int WIDTH = 40;

    private final boolean enabled;
    private final long total;
    private volatile long lastDraw;
    private boolean closed;

    private ProgressBar(boolean enabled, long total) {
        this.enabled = enabled;
        this.total = Math.max(1, total);
    }

    static ProgressBar forTerminal(boolean wanted, long total) {
        return new ProgressBar(wanted && System.console() != null, total);
    }

    void set(long done) {
        if (!enabled) {
            return;
        }
        long now = System.currentTimeMillis();
        if (now - lastDraw < REDRAW_MILLIS && done < total) {
            return;
        }
        lastDraw = now;
        int filled = (int) (WIDTH * Math.min(done, total) / total);
        System.err.printf("\r[%s%s] %3d%%", "#".repeat(filled), " ".repeat(WIDTH - filled), 100 * Math.min(done, total) / total);
    }

    @Override
    public void close() {
        if (enabled && !closed) {
            closed = true;
            System.err.print("\r" + " ".repeat(WIDTH + 8) + "\r");
        }
    }
}
