package dev.pagepool.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The proofs of the version-2 handshake: HMAC-SHA256 keyed by the cluster token over both sides' nonces.
 *
 * <p>Each side proves that it knows the token without sending it: the donor answers HELLO with
 * {@code HMAC(token, "pagepool-v2 donor" | client id | donor id | client nonce | donor nonce)}, and only once the
 * client has checked that does it send AUTH with the same MAC under the label {@code "pagepool-v2 client"}. The
 * labels differ so that neither proof can be reflected back as the other; both nonces are fresh per connection, so
 * a recorded proof is worth nothing on another connection; the client id is covered so that a relay cannot
 * swap it; the donor id is covered so that a relay cannot pass the donor's proof off as its own under an id of its
 * choosing (to be counted as a donor of its own, and sent copies): the id a client keys its donor by is one that
 * a holder of the token vouched for on this very connection.
 *
 * <p>An empty token (allowed only on a loopback data host) is a one-zero-byte key: HMAC pads every key shorter
 * than its block with zeros, so that is the empty key of RFC 2104, which the JDK's {@link SecretKeySpec} would
 * otherwise refuse.
 */
public final class HandshakeProof {
    private static final String ALGORITHM = "HmacSHA256";
    private static final byte[] DONOR_LABEL = "pagepool-v2 donor".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_LABEL = "pagepool-v2 client".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    public HandshakeProof(byte[] token) {
        this.key = new SecretKeySpec(token.length == 0 ? new byte[1] : token, ALGORITHM);
    }

    public static HandshakeProof of(String token) {
        return new HandshakeProof(token.getBytes(StandardCharsets.UTF_8));
    }

    /** A fresh nonce of {@link Frame#NONCE_BYTES} from the JDK's {@link SecureRandom}. */
    public static byte[] newNonce() {
        byte[] nonce = new byte[Frame.NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /** What the donor sends in its HELLO reply, for the id it names there. */
    public byte[] donorProof(long clientId, UUID donorId, byte[] clientNonce, byte[] donorNonce) {
        return mac(DONOR_LABEL, clientId, donorId, clientNonce, donorNonce);
    }

    /** What the client sends in AUTH. */
    public byte[] clientProof(long clientId, UUID donorId, byte[] clientNonce, byte[] donorNonce) {
        return mac(CLIENT_LABEL, clientId, donorId, clientNonce, donorNonce);
    }

    /** Compares in time independent of where the proofs differ. */
    public static boolean matches(byte[] expected, byte[] presented) {
        return MessageDigest.isEqual(expected, presented);
    }

    private byte[] mac(byte[] label, long clientId, UUID donorId, byte[] clientNonce, byte[] donorNonce) {
        if (clientNonce.length != Frame.NONCE_BYTES || donorNonce.length != Frame.NONCE_BYTES) {
            throw new IllegalArgumentException("nonces must be " + Frame.NONCE_BYTES + " bytes");
        }
        try {
            // A Mac per proof: two per connection, and Mac instances are not thread-safe.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(label);
            mac.update(ByteBuffer.allocate(Long.BYTES).putLong(0, clientId));
            mac.update(ByteBuffer.allocate(2 * Long.BYTES).putLong(0, donorId.getMostSignificantBits())
                .putLong(Long.BYTES, donorId.getLeastSignificantBits()));
            mac.update(clientNonce);
            mac.update(donorNonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no " + ALGORITHM, e);
        }
    }
}
