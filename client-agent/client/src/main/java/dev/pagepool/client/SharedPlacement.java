package dev.pagepool.client;

/**
 * Where a shared pool's extent lives. Several clients use a shared pool and none knows what the others put, so
 * the donor must follow from the extent alone: rendezvous hashing over the donors in the cluster, by their
 * address. Every client that knows the same donors picks the same one, and a donor leaving the cluster moves only
 * its own extents.
 *
 * <p>A donor merely out of service keeps its extents: they are not written elsewhere meanwhile (a put is
 * REJECTED, a get misses), so that when it is readmitted no other donor holds a newer version it would shadow.
 * What this client put or flushed while it was out is flushed on it before it serves again ({@link OwedFlushes}),
 * so it never serves a version older than the rejected put.
 */
final class SharedPlacement {
    private SharedPlacement() {
    }

    static int donorOf(DonorLink[] links, int count, long object, int extent) {
        int best = ExtentMap.NONE;
        long bestScore = Long.MIN_VALUE;
        for (int d = 0; d < count; d++) {
            DonorLink link = links[d];
            if (link == null || link.isRemoved()) {
                continue;
            }
            long score = mix(object * 0x9E3779B97F4A7C15L + extent, link.addressKey().hashCode());
            if (best == ExtentMap.NONE || score > bestScore) {
                best = d;
                bestScore = score;
            }
        }
        return best;
    }

    private static long mix(long key, int donor) {
        long h = key ^ (donor * 0xC2B2AE3D27D4EB4FL);
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
