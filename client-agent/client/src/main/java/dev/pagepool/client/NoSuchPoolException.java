package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** The pool does not exist on the donor, or belongs to another client id: create it with newPool. */
public final class NoSuchPoolException extends PagePoolException {
    public NoSuchPoolException(String message) {
        super(Status.NO_SUCH_POOL, message);
    }
}
