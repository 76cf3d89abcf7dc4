package dev.pagepool.client;

import dev.pagepool.protocol.Status;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

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

    /**
     * The failure a call ended with: {@code failure} without the wrappers a future puts around it
     * ({@link CompletionException}, {@link ExecutionException}). What a caller tests with {@code instanceof}.
     */
    public static Throwable causeOf(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
