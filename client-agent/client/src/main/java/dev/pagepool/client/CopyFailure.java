package dev.pagepool.client;

/**
 * What a failed request means for the copy it was sent to: the one rule that every replicated call and the
 * re-replicator follow, so that a stall is never mistaken for a loss.
 *
 * <ul>
 *   <li>{@link #GONE}: the copy no longer exists or can never be trusted. The donor lost the pool (restarted, or
 *       its lease ran out), sent a page that failed its CRC, or broke the protocol. Its copies are forgotten, and
 *       an extent left without one is lost.</li>
 *   <li>{@link #UNREACHABLE}: the copy is still there but did not take this request: a timeout, a closed
 *       connection, BUSY to the end, a refusal of its own. It stays on the map. The pages this request would have
 *       changed are marked stale on it (never read there until written again or re-copied); a donor that did not
 *       answer at all becomes suspect as a whole ({@link #silent}) and is checked, not wiped, when it answers.</li>
 *   <li>{@link #CALLERS}: the request itself was refused (wrong pool secret, not authenticated): the caller gets
 *       the error, and the copy is as it was. NO_SUCH_POOL from every copy of a page is the caller's too, decided
 *       once every copy answered.</li>
 * </ul>
 */
enum CopyFailure {
    GONE,
    UNREACHABLE,
    CALLERS;

    static CopyFailure of(Throwable error) {
        Throwable cause = PagePoolException.causeOf(error);
        if (cause instanceof BadSecretException || cause instanceof UnauthenticatedException) {
            return CALLERS;
        }
        if (cause instanceof NoSuchPoolException || cause instanceof CorruptPageException
                || cause instanceof ProtocolViolationException) {
            return GONE;
        }
        return UNREACHABLE;
    }

    /**
     * Whether the donor gave no answer at all (a timeout, a closed or refused connection): the donor, not just
     * this request, is suspect until it answers again. A donor that answered BUSY or refused a frame is alive.
     */
    static boolean silent(Throwable error) {
        return PagePoolException.causeOf(error) instanceof DonorUnavailableException;
    }

    /** Whether the failure is about the donor as a whole rather than the copies of one request's extents. */
    static boolean wholeDonor(Throwable error) {
        Throwable cause = PagePoolException.causeOf(error);
        return cause instanceof ProtocolViolationException || cause instanceof NoSuchPoolException;
    }
}
