package dev.pagepool.protocol;

/**
 * Input that breaks the wire format. Carries the request status the peer is answered with, and whether the
 * byte stream can still be trusted (a bad magic loses the frame boundaries; a malformed body does not).
 */
public final class ProtocolException extends Exception {
    private final int status;
    private final boolean framingLost;

    public ProtocolException(int status, boolean framingLost, String message) {
        super(message, null, false, false);
        this.status = status;
        this.framingLost = framingLost;
    }

    public int status() {
        return status;
    }

    /** True when the stream cannot be resynchronised and the connection must be closed after the error reply. */
    public boolean framingLost() {
        return framingLost;
    }
}
