package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** The donor wants the cluster token: pass the same token the donors were started with. */
public final class UnauthenticatedException extends PagePoolException {
    public UnauthenticatedException(String message) {
        super(Status.UNAUTHENTICATED, message);
    }
}
