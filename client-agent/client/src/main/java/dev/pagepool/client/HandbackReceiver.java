package dev.pagepool.client;

import java.nio.ByteBuffer;

/**
 * Takes the persistent pages a donor gives back (its machine needs the memory, or it is draining). Called on the
 * client's hand-back thread, never on an event loop, so it may write to disk.
 */
@FunctionalInterface
public interface HandbackReceiver {
    /**
     * Takes page {@code (object, index)} of {@code pool}: {@code page} holds its 4096 bytes, already checked
     * against their CRC, and {@code version} is the version the page was put with (the caller's, through
     * {@code putAsync}/{@code putBatchAsync}; 0 when none was given). Returns true once the page is held elsewhere,
     * or is known to be older than what the caller holds (the donor then frees its copy, if it still holds that
     * very version), false to leave it with the donor. Must not keep {@code page} after returning.
     *
     * <p>For a private pool it is called only with pages from a copy the pool's map trusts with them (it received
     * every write of the page since it was placed or copied whole), so the page is the last version put or the one
     * before: comparing {@code version} with {@link PoolRef#versionOf} in the 16 bits the pool keeps
     * ({@link PoolRef#sameVersion}) tells which. Pages from other copies are answered by the client itself.
     */
    boolean take(PoolRef pool, long object, int index, long version, ByteBuffer page);
}
