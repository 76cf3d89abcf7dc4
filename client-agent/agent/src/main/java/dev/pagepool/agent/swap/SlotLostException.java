package dev.pagepool.agent.swap;

import java.io.IOException;

/**
 * A read of a slot whose every cluster copy is gone: the export answers EIO, and the agent's metrics count it as
 * a lost page rather than a failing disk.
 */
public final class SlotLostException extends IOException {
    public SlotLostException(String message) {
        super(message);
    }
}
