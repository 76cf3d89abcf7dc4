package dev.pagepool.client;

import dev.pagepool.protocol.OwnerKey;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * The 128-bit secret of this client's private pools, known to this client alone. Each donor is shown only the owner
 * key it gives there ({@link OwnerKey#derive}), and a pool opens only to a connection that proved that key: a holder
 * of the cluster token who says this client's id gets nothing. Keep it with whatever resumes the pools after a
 * restart ({@link PagePoolClient#resumePool}): another secret finds them closed.
 */
public record PoolSecret(long high, long low) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A fresh secret from the JDK's cryptographic generator. */
    public static PoolSecret random() {
        return new PoolSecret(RANDOM.nextLong(), RANDOM.nextLong());
    }

    /** The owner key this secret gives on the donor {@code donorId}. */
    public OwnerKey ownerKeyOn(UUID donorId) {
        return OwnerKey.derive(ByteBuffer.allocate(OwnerKey.SECRET_BYTES).putLong(high).putLong(low).array(), donorId);
    }

    @Override
    public String toString() {
        return "PoolSecret[hidden]"; // never in a log
    }
}
