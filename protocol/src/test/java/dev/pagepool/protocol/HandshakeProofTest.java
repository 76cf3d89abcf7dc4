package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class HandshakeProofTest {
    private static final byte[] CLIENT_NONCE = HexFormat.of().parseHex("00".repeat(31) + "01");
    private static final byte[] DONOR_NONCE = HexFormat.of().parseHex("ff".repeat(32));
    private static final UUID DONOR = new UUID(9, 3);

    @Test
    void donorProofIsHmacSha256OfLabelClientIdDonorIdAndBothNonces() throws Exception {
        // Written out from the documented layout, so that another implementation can check itself against it.
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update("pagepool-v2 donor".getBytes(StandardCharsets.US_ASCII));
        mac.update(HexFormat.of().parseHex("0000000000000007"));
        mac.update(HexFormat.of().parseHex("00000000000000090000000000000003"));
        mac.update(CLIENT_NONCE);
        mac.update(DONOR_NONCE);
        assertArrayEquals(mac.doFinal(), HandshakeProof.of("secret").donorProof(7, DONOR, CLIENT_NONCE, DONOR_NONCE));
    }

    @Test
    void proofsDependOnTokenSideClientIdAndNonces() {
        HandshakeProof p = HandshakeProof.of("secret");
        byte[] donor = p.donorProof(7, DONOR, CLIENT_NONCE, DONOR_NONCE);
        assertEquals(Frame.PROOF_BYTES, donor.length);
        assertFalse(HandshakeProof.matches(donor, p.clientProof(7, DONOR, CLIENT_NONCE, DONOR_NONCE)), "a proof cannot be reflected");
        assertFalse(HandshakeProof.matches(donor, HandshakeProof.of("secreT").donorProof(7, DONOR, CLIENT_NONCE, DONOR_NONCE)));
        assertFalse(HandshakeProof.matches(donor, p.donorProof(8, DONOR, CLIENT_NONCE, DONOR_NONCE)));
        assertFalse(HandshakeProof.matches(donor, p.donorProof(7, new UUID(9, 4), CLIENT_NONCE, DONOR_NONCE)),
            "the proof names the donor: a relay cannot pass it off under another id");
        assertFalse(HandshakeProof.matches(donor, p.donorProof(7, DONOR, DONOR_NONCE, CLIENT_NONCE)));
        assertTrue(HandshakeProof.matches(donor, HandshakeProof.of("secret").donorProof(7, DONOR, CLIENT_NONCE, DONOR_NONCE)));
    }

    @Test
    void anOwnerKeyIsTheHmacOfTheDonorIdUnderThePoolSecretAndDiffersPerDonor() throws Exception {
        byte[] secret = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        mac.update("pagepool-v2 owner key".getBytes(StandardCharsets.US_ASCII));
        java.nio.ByteBuffer expected = java.nio.ByteBuffer.wrap(mac.doFinal(HexFormat.of().parseHex("00000000000000090000000000000003")));
        OwnerKey key = OwnerKey.derive(secret, DONOR);
        assertEquals(new OwnerKey(expected.getLong(0), expected.getLong(8)), key);
        assertFalse(key.sameAs(OwnerKey.derive(secret, new UUID(9, 4))), "one donor's key opens nothing on another");
        assertTrue(key.sameAs(OwnerKey.derive(secret.clone(), DONOR)));
    }

    @Test
    void anEmptyTokenIsTheEmptyKeyOfHmac() throws Exception {
        byte[] proof = HandshakeProof.of("").clientProof(1, DONOR, CLIENT_NONCE, DONOR_NONCE);
        assertFalse(HandshakeProof.matches(proof, HandshakeProof.of("x").clientProof(1, DONOR, CLIENT_NONCE, DONOR_NONCE)));
        assertEquals(Frame.PROOF_BYTES, proof.length);
    }

    @Test
    void noncesAreFreshAndOfTheDocumentedSize() {
        byte[] a = HandshakeProof.newNonce();
        assertEquals(Frame.NONCE_BYTES, a.length);
        assertFalse(java.util.Arrays.equals(a, HandshakeProof.newNonce()));
        assertThrows(IllegalArgumentException.class, () -> HandshakeProof.of("t").donorProof(1, DONOR, new byte[3], DONOR_NONCE));
    }
}
