package dev.pagepool.nbd;

import java.util.concurrent.CompletableFuture;

/**
 * What the NBD export serves: a device of whole 4 KiB blocks. Asynchronous, so that the server's event loop
 * never waits on the cluster or the disk. Partial blocks (the kernel's 512-byte requests) are the server's
 * business: it reads, modifies and writes whole blocks, and keeps overlapping partial writes in order.
 *
 * <p>A block never written, or trimmed, reads as zeros. A future that fails with {@link NoSpaceException}
 * becomes ENOSPC on the wire; any other failure becomes EIO.
 */
public interface BlockDevice {
    int BLOCK_BYTES = 4096;

    /** Size of the device in blocks. */
    long blocks();

    /** Reads blocks {@code [first, first + count)} into {@code dst[offset ..]}. */
    CompletableFuture<Void> read(long first, int count, byte[] dst, int offset);

    /** Writes blocks {@code [first, first + count)} from {@code src[offset ..]}; durable when the future completes. */
    CompletableFuture<Void> write(long first, int count, byte[] src, int offset);

    /** Forgets blocks {@code [first, first + count)} everywhere; they read as zeros afterwards. */
    CompletableFuture<Void> trim(long first, int count);

    /** Completes once every write completed before the call is on stable storage. */
    CompletableFuture<Void> flush();
}
