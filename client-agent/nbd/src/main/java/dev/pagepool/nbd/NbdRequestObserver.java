package dev.pagepool.nbd;

/**
 * Told of every request the transmission phase executed, once its reply is sent, so the host can count requests and
 * their latency (the agent's Prometheus metrics) without the NBD server knowing about any metrics library.
 *
 * <p>Called on the connection's event loop for every request: it must not block and should not allocate (keep
 * meters in fields, indexed by command). Requests refused before execution (malformed, out of range) are not
 * reported; they never reach the device.
 */
@FunctionalInterface
public interface NbdRequestObserver {
    /** Command types, as on the wire. */
    int READ = Nbd.NBD_CMD_READ;
    int WRITE = Nbd.NBD_CMD_WRITE;
    int FLUSH = Nbd.NBD_CMD_FLUSH;
    int TRIM = Nbd.NBD_CMD_TRIM;
    int WRITE_ZEROES = Nbd.NBD_CMD_WRITE_ZEROES;
    /** Errors sent, as on the wire. */
    int EIO = Nbd.NBD_EIO;
    int ENOSPC = Nbd.NBD_ENOSPC;

    /** Observes nothing. */
    NbdRequestObserver NONE = (command, bytes, nanos, error, failure) -> { };

    /**
     * @param command one of {@link #READ}, {@link #WRITE}, {@link #FLUSH}, {@link #TRIM}, {@link #WRITE_ZEROES}
     * @param bytes   the request's length (0 for FLUSH)
     * @param nanos   from the request's header being read to its reply being queued
     * @param error   the NBD error sent: 0, or an errno such as {@link #EIO}
     * @param failure what the device failed with, or null when it succeeded
     */
    void requestDone(int command, long bytes, long nanos, int error, Throwable failure);

}
