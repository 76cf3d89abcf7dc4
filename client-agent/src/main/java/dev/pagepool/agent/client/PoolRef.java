package dev.pagepool.agent.client;

import dev.pagepool.protocol.PoolSpec;

/**
 * A pool as the client sees it: one tmem pool made of one pool on each donor (their ids differ per donor).
 * Pages are placed on a donor by {@link PagePlacement}; {@code donorPoolIds[d]} is the id on donor d.
 */
public record PoolRef(PoolSpec spec, int[] donorPoolIds) {
    public int idOn(int donor) {
        return donorPoolIds[donor];
    }
}
