package dev.pagepool.node.config;

/**
 * Per-client shares of one donor, so that one token holder cannot take the whole donor from the others.
 *
 * @param maxPools pools one client id may own at once
 * @param maxPages pages one client id may hold in the pools it owns; 0 is no limit but the budget
 */
public record ClientLimits(int maxPools, long maxPages) {
    public boolean limitsPages() {
        return maxPages > 0;
    }
}
