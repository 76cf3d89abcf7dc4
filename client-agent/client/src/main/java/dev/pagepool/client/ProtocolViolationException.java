package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** The donor sent something this client cannot understand; the connection is closed. */
public final class ProtocolViolationException extends PagePoolException {
    public ProtocolViolationException(String message) {
        super(Status.MALFORMED, message);
    }
}
