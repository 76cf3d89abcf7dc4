package dev.pagepool.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The 128-bit key a client proves in AUTH, and so the secret of every private pool it creates on that donor.
 *
 * <p>The client keeps one random pool secret ({@link #SECRET_BYTES} bytes, remembered across its restarts) and
 * shows each donor only {@code HMAC-SHA256(pool secret, "pagepool-v2 owner key" | donor id)}, cut to 16 bytes: a
 * donor learns the key of its own pools and nothing that opens the client's pools on another donor. Donor ids are
 * random per donor process, and a restarted donor has lost its pools anyway, so the key lives exactly as long as
 * the pools it opens.
 */
public record OwnerKey(long high, long low) {
    /** The client's pool secret: 128 bits from a cryptographic generator. */
    public static final int SECRET_BYTES = 16;
    /** The owner key on the wire (the second part of AUTH). */
    public static final int BYTES = 16;
    private static final byte[] LABEL = "pagepool-v2 owner key".getBytes(StandardCharsets.US_ASCII);

    /** The key that {@code poolSecret} gives on the donor {@code donorId}. */
    public static OwnerKey derive(byte[] poolSecret, UUID donorId) {
        if (poolSecret.length != SECRET_BYTES) {
            throw new IllegalArgumentException("a pool secret is " + SECRET_BYTES + " bytes, got " + poolSecret.length);
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(poolSecret, "HmacSHA256"));
            mac.update(LABEL);
            mac.update(ByteBuffer.allocate(2 * Long.BYTES).putLong(0, donorId.getMostSignificantBits())
                .putLong(Long.BYTES, donorId.getLeastSignificantBits()));
            ByteBuffer out = ByteBuffer.wrap(mac.doFinal());
            return new OwnerKey(out.getLong(0), out.getLong(Long.BYTES));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no HmacSHA256", e);
        }
    }

    /** Compares in time independent of where the keys differ. */
    public boolean sameAs(OwnerKey other) {
        return ((high ^ other.high) | (low ^ other.low)) == 0;
    }

    @Override
    public String toString() {
        return "OwnerKey[hidden]"; // a secret: never in a log
    }
}
