package dev.pagepool.client;

import dev.pagepool.protocol.Handle;
import dev.pagepool.protocol.Status;

/** A page arrived whose CRC32C does not match its data: it is never handed to the caller. */
public final class CorruptPageException extends PagePoolException {
    private final transient Handle handle;

    public CorruptPageException(Handle handle, String donor) {
        super(Status.INTERNAL, "page " + handle + " from donor " + donor + " failed its CRC32C check");
        this.handle = handle;
    }

    public Handle handle() {
        return handle;
    }
}
