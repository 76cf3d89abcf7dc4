package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/**
 * A request the donor refused as a whole. Carries the request status and the donor's reason; subclasses name
 * the cases a caller reacts to differently.
 */
public class PagePoolException extends RuntimeException {
    private final int status;

    public PagePoolException(int status, String message) {
        super(Status.requestName(status) + ": " + message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** The exception for a non-OK request status from a donor. */
    static PagePoolException of(int status, String donor, String message) {
        String text = message + " (donor " + donor + ")";
        return switch (status) {
            case Status.UNAUTHENTICATED -> new UnauthenticatedException(text);
            case Status.NO_SUCH_POOL -> new NoSuchPoolException(text);
            case Status.BAD_SECRET -> new BadSecretException(text);
            case Status.BUSY -> new BusyException(text);
            default -> new PagePoolException(status, text);
        };
    }
}
