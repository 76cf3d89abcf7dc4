package dev.pagepool.agent.host;

import com.sun.jna.LastErrorException;

/**
 * {@code PR_SET_THP_DISABLE}: the agent's memory in 4 KiB pages, never in transparent huge pages. Its memory is
 * locked on fault, so with THP set to {@code always} (RHEL's default; the guest of the in-guest test) the first
 * touch of any 2 MiB-aligned stretch of the metaspace, the code cache, a malloc arena or a direct buffer would pin
 * a whole 2 MiB of the host's RAM; measured inside a guest, that grew the agent's RSS by 16 MiB after start. The
 * flag belongs to the process, is kept across {@code execve} and needs no privilege; the agent's data path gains
 * nothing from huge pages (a page is copied once into a buffer that is touched again at once).
 */
final class SmallPages {
    private SmallPages() {
    }

    /** Sets the flag; on a kernel without it (before 3.15) the agent runs as before. */
    static void apply() {
        try {
            Libc.load().prctl(Libc.PR_SET_THP_DISABLE, 1, 0, 0, 0);
        } catch (LastErrorException | LinkageError e) {
            // Only a footprint measure: the three safeguards say what a missing native library means.
        }
    }

    /** One line for the start-up report. */
    static String state() {
        try {
            return Libc.load().prctl(Libc.PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1
                ? "transparent huge pages off for the agent: locked memory grows 4 KiB at a time"
                : "transparent huge pages allowed for the agent (PR_SET_THP_DISABLE did not hold)";
        } catch (LastErrorException | LinkageError e) {
            return "transparent huge pages: unknown (" + e.getMessage() + ")";
        }
    }
}
