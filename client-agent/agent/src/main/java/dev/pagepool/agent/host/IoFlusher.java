package dev.pagepool.agent.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.StringArray;

/**
 * {@code PR_SET_IO_FLUSHER} on a thread: memory it allocates is reclaimed without I/O (PF_MEMALLOC_NOIO) and it
 * is not throttled as a writer of dirty pages (PF_LOCAL_THROTTLE). Reclaim on a thread that serves the swap device
 * would otherwise write to that device and wait for itself; mlockall alone was seen to freeze user-space NBD
 * servers. The flag is per thread, inherited by threads created after it is set, and kept across {@code execve}:
 * so the agent sets it and executes its own command again ({@link #restartFlagged()}), and its JVM starts with
 * every thread flagged, the JIT compilers, the garbage collector and the VM thread included. Those are created
 * before any Java code runs; a safepoint waits for all of them, and one stalled in reclaim that writes to the
 * export stalls the whole agent. Seen in a guest that swaps to an agent inside it: safepoints that took 20 to
 * 35 s to reach while the event loop, itself flagged, had nothing left to wait for.
 */
final class IoFlusher {
    static final String NAME = "io_flusher";
    /** Whether this JVM's first thread already had the flag: then every thread of the JVM has it. */
    private static volatile boolean startedFlagged;

    private IoFlusher() {
    }

    /**
     * On the main thread, before anything else: if the flag can be had but this JVM started without it, sets it
     * and executes the same command line again, which does not return. Otherwise returns, and {@link
     * #markThisThread()} reports what holds.
     */
    static void restartFlagged() {
        startedFlagged = isMarked();
        String[] command = ProcSelf.commandLine();
        if (command == null || startedFlagged || !markThisThread().held()) {
            return;
        }
        try {
            Libc.load().execv("/proc/self/exe", new StringArray(command));
        } catch (LastErrorException | LinkageError e) {
            // Not fatal: this thread and the ones it creates are flagged, the JVM's own threads are not.
            System.err.println("host protection: could not restart the JVM with PR_SET_IO_FLUSHER on all of its "
                + "threads: " + e.getMessage());
        }
    }

    /** Sets the flag on the calling thread, or says why it could not be set. */
    static Safeguard markThisThread() {
        boolean fromTheStart = startedFlagged;
        try {
            Libc.load().prctl(Libc.PR_SET_IO_FLUSHER, 1, 0, 0, 0);
            return Safeguard.holds(NAME, fromTheStart
                ? "PR_SET_IO_FLUSHER on every thread, the JVM's own included (it started flagged): reclaim in them "
                    + "does no I/O, so it cannot wait on the export they serve"
                : "PR_SET_IO_FLUSHER on the main thread and on every event-loop and worker thread (not on the JVM's "
                    + "own: it started unflagged): reclaim in them does no I/O, so it cannot wait on the export");
        } catch (LastErrorException e) {
            return switch (e.getErrorCode()) {
                case Libc.EPERM -> Safeguard.missing(NAME, "PR_SET_IO_FLUSHER refused: the process lacks "
                    + "CAP_SYS_RESOURCE", "grant CAP_SYS_RESOURCE (systemd: AmbientCapabilities=CAP_SYS_RESOURCE)");
                case Libc.EINVAL -> Safeguard.missing(NAME, "this kernel has no PR_SET_IO_FLUSHER (Linux 5.6+)",
                    "run a Linux 5.6 or newer kernel");
                default -> Safeguard.missing(NAME, "PR_SET_IO_FLUSHER failed: " + e.getMessage(),
                    "grant CAP_SYS_RESOURCE on a Linux 5.6 or newer kernel");
            };
        } catch (LinkageError e) {
            return Safeguard.missing(NAME, "JNA could not call the C library: " + e.getMessage(),
                "let JNA unpack its native library (a writable, exec-allowed java.io.tmpdir or -Djna.tmpdir)");
        }
    }

    /** Whether the calling thread has the flag. */
    static boolean isMarked() {
        try {
            return Libc.load().prctl(Libc.PR_GET_IO_FLUSHER, 0, 0, 0, 0) == 1;
        } catch (LastErrorException | LinkageError e) {
            return false;
        }
    }
}
