package dev.pagepool.node.pressure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code MemAvailable} in {@code /proc/meminfo}: the kernel's estimate of memory that can be had without
 * swapping. The donor keeps at least {@code minAvailable} of it for its machine: the headroom is what is
 * available beyond that, negative when the machine has less.
 */
public final class MemAvailableSignal implements PressureSignal {
    private static final String KEY = "MemAvailable:";

    private final Path file;
    private final long minAvailableBytes;
    private final SignalStatus status = new SignalStatus("meminfo");

    public MemAvailableSignal(Path procRoot, long minAvailableBytes) {
        this.file = procRoot.resolve("meminfo");
        this.minAvailableBytes = minAvailableBytes;
    }

    @Override
    public String name() {
        return "meminfo";
    }

    @Override
    public String status() {
        return status.current();
    }

    int logged() {
        return status.logged();
    }

    @Override
    public long headroomBytes(long donorUsedBytes) {
        long available;
        try {
            available = memAvailableBytes(Files.readString(file));
        } catch (NoSuchFileException e) {
            status.off("no " + file);
            return UNCONSTRAINED;
        } catch (IOException | RuntimeException e) {
            status.broken("cannot read MemAvailable from " + file + ": " + e.getMessage());
            return UNCONSTRAINED;
        }
        status.on();
        return available - minAvailableBytes;
    }

    /** {@code MemAvailable:   123456 kB} in bytes. */
    static long memAvailableBytes(String content) {
        for (String line : content.split("\n")) {
            if (line.startsWith(KEY)) {
                String[] parts = line.substring(KEY.length()).trim().split("\\s+");
                long value = Long.parseLong(parts[0]);
                if (parts.length > 1 && !parts[1].equalsIgnoreCase("kB")) {
                    throw new IllegalArgumentException("unexpected unit " + parts[1] + " in '" + line.strip() + "'");
                }
                return parts.length > 1 ? value * 1024 : value;
            }
        }
        throw new IllegalArgumentException("no MemAvailable line");
    }
}
