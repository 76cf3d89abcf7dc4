package dev.pagepool.nbd;

/** Neither the cluster nor the local disk could take a block: the export answers ENOSPC. */
public final class NoSpaceException extends RuntimeException {
    public NoSpaceException(String message) {
        super(message);
    }
}
