package dev.pagepool.node.pressure;

import java.nio.file.Path;

/**
 * {@code MemAvailable} in {@code /proc/meminfo}: the kernel's estimate of memory that can be had without
 * swapping. The donor keeps at least {@code minAvailable} of it for its machine: the headroom is what is
 * available beyond that, negative when the machine has less.
 */
public final class MemAvailableSignal extends ProcFileSignal {
    private static final String KEY = "MemAvailable:";

    private final long minAvailableBytes;

    public MemAvailableSignal(Path procRoot, long minAvailableBytes) {
        super("meminfo", procRoot.resolve("meminfo"), "");
        this.minAvailableBytes = minAvailableBytes;
    }

    @Override
    long headroomFrom(String content, long donorUsedBytes) {
        return memAvailableBytes(content) - minAvailableBytes;
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
