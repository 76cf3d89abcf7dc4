package dev.pagepool.client;

import dev.pagepool.protocol.Status;

/** A shared pool was used without presenting its UUID on this connection: join it with newPool first. */
public final class BadSecretException extends PagePoolException {
    public BadSecretException(String message) {
        super(Status.BAD_SECRET, message);
    }
}
