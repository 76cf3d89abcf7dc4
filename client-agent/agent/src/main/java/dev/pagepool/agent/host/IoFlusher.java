package dev.pagepool.agent.host;

import com.sun.jna.LastErrorException;

/**
 * {@code PR_SET_IO_FLUSHER} on a thread: memory it allocates is reclaimed without I/O (PF_MEMALLOC_NOIO) and it
 * is not throttled as a writer of dirty pages (PF_LOCAL_THROTTLE). Reclaim on a thread that serves the swap device
 * would otherwise write to that device and wait for itself; mlockall alone was seen to freeze user-space NBD
 * servers. The flag is per thread and inherited by threads created after it is set.
 */
final class IoFlusher {
    static final String NAME = "io_flusher";

    private IoFlusher() {
    }

    /** Sets the flag on the calling thread, or says why it could not be set. */
    static Safeguard markThisThread() {
        try {
            Libc.load().prctl(Libc.PR_SET_IO_FLUSHER, 1, 0, 0, 0);
            return Safeguard.holds(NAME, "PR_SET_IO_FLUSHER on the main thread and on every event-loop and worker "
                + "thread: reclaim in them does no I/O, so it cannot wait on the export they serve");
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
