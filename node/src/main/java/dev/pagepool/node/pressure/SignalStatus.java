package dev.pagepool.node.pressure;

import org.jboss.logging.Logger;

/**
 * The state of one signal and its log discipline: a signal that cannot be read is logged once, with the reason,
 * not every period; a change of reason or a recovery is logged once again.
 */
final class SignalStatus {
    private static final Logger LOG = Logger.getLogger(SignalStatus.class);

    private final String signal;
    private String current = "on";
    private int logged;

    SignalStatus(String signal) {
        this.signal = signal;
    }

    /** The source is absent, which is normal on some machines (no cgroup v2, no PSI): INFO. */
    void off(String reason) {
        change("off: " + reason, false);
    }

    /** The source is there but says nothing to limit by (e.g. memory.max is "max"): INFO. */
    void idle(String reason) {
        change("idle: " + reason, false);
    }

    /** The source is there but unreadable or malformed: WARN, since someone should look. */
    void broken(String reason) {
        change("off: " + reason, true);
    }

    void on() {
        if (!current.equals("on")) {
            LOG.infof("pressure signal %s is on again", signal);
            logged++;
            current = "on";
        }
    }

    String current() {
        return current;
    }

    /** How many times this signal's state was logged: once per change, never per period. */
    int logged() {
        return logged;
    }

    private void change(String next, boolean warn) {
        if (next.equals(current)) {
            return;
        }
        current = next;
        logged++;
        if (warn) {
            LOG.warnf("pressure signal %s %s; going on with the other signals", signal, next);
        } else {
            LOG.infof("pressure signal %s %s; going on with the other signals", signal, next);
        }
    }
}
