package dev.pagepool.agent.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the kernel says of this process in {@code /proc/self}: its capabilities and its memory-lock limit are read
 * before a call, so that a refusal is foreseen and its message names what is missing.
 */
final class ProcSelf {
    static final int CAP_IPC_LOCK = 14;
    static final int CAP_SYS_RESOURCE = 24;

    private ProcSelf() {
    }

    /** Whether the process holds {@code capability} (a number of linux/capability.h) in its effective set. */
    static boolean hasCapability(int capability) {
        String hex = statusField("CapEff");
        return hex != null && (Long.parseUnsignedLong(hex, 16) & (1L << capability)) != 0;
    }

    /** The process's command line, as it was started, or null if the kernel does not say. */
    static String[] commandLine() {
        try {
            String all = Files.readString(Path.of("/proc/self/cmdline"), java.nio.charset.StandardCharsets.UTF_8);
            return all.isEmpty() ? null : all.split("\0");
        } catch (IOException e) {
            return null;
        }
    }

    /** VmRSS: bytes of the process in RAM, or -1 if the kernel does not say. */
    static long residentBytes() {
        String value = statusField("VmRSS");
        return value == null ? -1 : Long.parseLong(value.replace("kB", "").strip()) * 1024;
    }

    /** RLIMIT_MEMLOCK's soft limit in bytes, {@link Long#MAX_VALUE} when unlimited, -1 when unreadable. */
    static long memlockLimit() {
        for (String line : lines("limits")) {
            if (line.startsWith("Max locked memory")) {
                String soft = line.substring("Max locked memory".length()).strip().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        return -1;
    }

    private static String statusField(String name) {
        for (String line : lines("status")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return null;
    }

    private static List<String> lines(String file) {
        try {
            return Files.readAllLines(Path.of("/proc/self", file));
        } catch (IOException | SecurityException e) {
            return List.of(); // not Linux: every question answers "unknown"
        }
    }
}
