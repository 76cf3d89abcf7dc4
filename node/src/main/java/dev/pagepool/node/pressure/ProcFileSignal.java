package dev.pagepool.node.pressure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A signal read from one file under {@code /proc}: read it each period, and when it is absent or unreadable say
 * why once (through {@link SignalStatus}) and set no limit, so the other signals go on.
 */
abstract class ProcFileSignal implements PressureSignal {
    private final String name;
    private final Path file;
    private final String whyAbsent;
    private final SignalStatus status;

    ProcFileSignal(String name, Path file, String whyAbsent) {
        this.name = name;
        this.file = file;
        this.whyAbsent = whyAbsent;
        this.status = new SignalStatus(name);
    }

    /** The headroom this signal gives, from the file's content. */
    abstract long headroomFrom(String content, long donorUsedBytes);

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String status() {
        return status.current();
    }

    final int logged() {
        return status.logged();
    }

    @Override
    public final long headroomBytes(long donorUsedBytes) {
        long headroom;
        try {
            headroom = headroomFrom(Files.readString(file), donorUsedBytes);
        } catch (NoSuchFileException e) {
            status.off("no " + file + whyAbsent);
            return UNCONSTRAINED;
        } catch (IOException | RuntimeException e) {
            status.broken("cannot read " + file + ": " + e.getMessage());
            return UNCONSTRAINED;
        }
        status.on();
        return headroom;
    }
}
