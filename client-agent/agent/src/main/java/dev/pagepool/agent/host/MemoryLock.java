package dev.pagepool.agent.host;

import com.sun.jna.LastErrorException;

/**
 * {@code mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)}: every page the agent has touched, and every page it
 * touches later, stays in RAM, so the agent never waits for a page of its own to come back from a swap device
 * (possibly the one it serves) while the kernel waits for it to take a page out.
 *
 * <p>On fault, not all at once: without MCL_ONFAULT the lock reads in and pins every mapping whole, the JDK's
 * module image and every thread's full stack included, about 180 MiB more for a JVM that never uses most of it.
 * The heap is pre-touched at start (-XX:+AlwaysPreTouch) and the NBD buffers are allocated then, so what the data
 * path needs is resident and locked before the first request; a page first touched later is a fresh page or a
 * read from the file system, never a read from swap.
 */
final class MemoryLock {
    static final String NAME = "mlockall";
    static final String REMEDY = "grant CAP_IPC_LOCK (systemd: AmbientCapabilities=CAP_IPC_LOCK) or lift the "
        + "locked-memory limit (systemd: LimitMEMLOCK=infinity; a shell: ulimit -l unlimited)";

    private MemoryLock() {
    }

    static Safeguard lock() {
        long limit = ProcSelf.memlockLimit();
        // MCL_FUTURE under a finite limit would make every later mapping past the limit fail: the JVM would die
        // of its next thread stack or heap growth. Without CAP_IPC_LOCK, lock only when there is no limit.
        if (!ProcSelf.hasCapability(ProcSelf.CAP_IPC_LOCK) && limit != Long.MAX_VALUE) {
            return Safeguard.missing(NAME, "nothing locked: the process lacks CAP_IPC_LOCK and its locked-memory "
                + "limit (RLIMIT_MEMLOCK) is " + (limit < 0 ? "unknown" : limit + " bytes")
                + ", under which the JVM's later allocations would fail", REMEDY);
        }
        String how;
        try {
            how = lockAll();
        } catch (LastErrorException e) {
            return Safeguard.missing(NAME, "mlockall failed: " + e.getMessage(), REMEDY);
        } catch (LinkageError e) {
            return Safeguard.missing(NAME, "JNA could not call the C library: " + e.getMessage(),
                "let JNA unpack its native library (a writable, exec-allowed java.io.tmpdir or -Djna.tmpdir)");
        }
        return Safeguard.holds(NAME, "every page the agent touches stays in RAM (" + how + "); resident now: "
            + (ProcSelf.residentBytes() >> 20) + " MiB");
    }

    private static String lockAll() {
        Libc libc = Libc.load();
        try {
            libc.mlockall(Libc.MCL_CURRENT | Libc.MCL_FUTURE | Libc.MCL_ONFAULT);
            return "MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT";
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Libc.EINVAL) {
                throw e;
            }
            // A kernel older than 4.4: no MCL_ONFAULT, so everything mapped is read in and locked now.
            libc.mlockall(Libc.MCL_CURRENT | Libc.MCL_FUTURE);
            return "MCL_CURRENT | MCL_FUTURE";
        }
    }
}
