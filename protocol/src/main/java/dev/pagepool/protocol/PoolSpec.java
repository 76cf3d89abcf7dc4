package dev.pagepool.protocol;

import java.util.UUID;

/**
 * The attributes a pool gets at creation (tmem's new_pool flags). A shared pool is found and joined by its
 * 128-bit UUID, which is the secret: whoever presents it may use the pool. A private pool ignores the UUID.
 */
public record PoolSpec(boolean persistent, boolean shared, long uuidHigh, long uuidLow) {
    public static PoolSpec privatePool(boolean persistent) {
        return new PoolSpec(persistent, false, 0, 0);
    }

    public static PoolSpec sharedPool(boolean persistent, UUID secret) {
        return new PoolSpec(persistent, true, secret.getMostSignificantBits(), secret.getLeastSignificantBits());
    }

    public String kind() {
        return (persistent ? "persistent" : "ephemeral") + (shared ? "-shared" : "-private");
    }
}
