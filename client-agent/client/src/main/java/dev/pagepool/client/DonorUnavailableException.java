package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** The donor could not be reached, closed the connection, or did not answer in time. Its pages may be gone. */
public final class DonorUnavailableException extends PagePoolException {
    public DonorUnavailableException(String message) {
        super(Status.INTERNAL, message);
    }
}
