package dev.pagepool.client;

/**
 * Where a shared pool's extent lives. Several clients use a shared pool and none knows what the others put, so
 * the donor must follow from the extent alone: rendezvous hashing over the donors in service, by their address.
 * Every client that sees the same donors picks the same one, and a donor leaving moves only its own extents.
 */
final class SharedPlacement {
    private SharedPlacement() {
    }

    static int donorOf(DonorLink[] links, int count, long object, int extent) {
        int best = ExtentMap.NONE;
        long bestScore = Long.MIN_VALUE;
        for (int d = 0; d < count; d++) {
            DonorLink link = links[d];
            if (link == null || !link.isUp()) {
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
