package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** The donor had no buffer for the request: retry after a short pause, or keep the pages locally. */
public final class BusyException extends PagePoolException {
    public BusyException(String message) {
        super(Status.BUSY, message);
    }
}
