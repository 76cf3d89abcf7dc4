package dev.pagepool.node.store;

/** A consistent snapshot of a page store, taken under its lock. */
public record StoreStats(long capacityBytes, long usedBytes, long pages, long pagesPersistent, long pagesEphemeral,
                         long storedBytes, long sameFilledPages, long compressedPages, long evictions,
                         long metadataBytes, long arenaBytes, long arenaReadyBytes,
                         long arenaInlineGrowths) {
}
