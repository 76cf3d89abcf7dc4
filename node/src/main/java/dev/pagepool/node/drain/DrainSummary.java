package dev.pagepool.node.drain;

import java.util.List;

/**
 * What a drain did; the body of {@code POST /admin/drain}.
 *
 * @param pages_handed_back        persistent pages freed after their owners acknowledged them
 * @param bytes_handed_back        their uncompressed bytes
 * @param pages_left               persistent pages still held at the end: lost when the process exits
 * @param pages_left_unreachable   of those, pages of pools no connected client owns
 * @param unreachable_pools        ids of those pools
 * @param ephemeral_dropped        ephemeral pages dropped (a cache: nothing is lost)
 * @param millis                   how long the drain took
 * @param timed_out                true when the drain timeout ended it with pages left to hand back
 * @param left_cluster             true once the donor left the Hazelcast cluster
 */
public record DrainSummary(long pages_handed_back, long bytes_handed_back, long pages_left, long pages_left_unreachable,
                           List<Integer> unreachable_pools, long ephemeral_dropped, long millis, boolean timed_out,
                           boolean left_cluster) {
}
