package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class HandshakeProofTest {
    private static final byte[] CLIENT_NONCE = HexFormat.of().parseHex("00".repeat(31) + "01");
    private static final byte[] DONOR_NONCE = HexFormat.of().parseHex("ff".repeat(32));

    @Test
    void donorProofIsHmacSha256OfLabelClientIdAndBothNonces() throws Exception {
        // Written out from the documented layout, so that another implementation can check itself against it.
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update("pagepool-v2 donor".getBytes(StandardCharsets.US_ASCII));
        mac.update(HexFormat.of().parseHex("0000000000000007"));
        mac.update(CLIENT_NONCE);
        mac.update(DONOR_NONCE);
        assertArrayEquals(mac.doFinal(), HandshakeProof.of("secret").donorProof(7, CLIENT_NONCE, DONOR_NONCE));
    }

    @Test
    void proofsDependOnTokenSideClientIdAndNonces() {
        HandshakeProof p = HandshakeProof.of("secret");
        byte[] donor = p.donorProof(7, CLIENT_NONCE, DONOR_NONCE);
        assertEquals(Frame.PROOF_BYTES, donor.length);
        assertFalse(HandshakeProof.matches(donor, p.clientProof(7, CLIENT_NONCE, DONOR_NONCE)), "a proof cannot be reflected");
        assertFalse(HandshakeProof.matches(donor, HandshakeProof.of("secreT").donorProof(7, CLIENT_NONCE, DONOR_NONCE)));
        assertFalse(HandshakeProof.matches(donor, p.donorProof(8, CLIENT_NONCE, DONOR_NONCE)));
        assertFalse(HandshakeProof.matches(donor, p.donorProof(7, DONOR_NONCE, CLIENT_NONCE)));
        assertTrue(HandshakeProof.matches(donor, HandshakeProof.of("secret").donorProof(7, CLIENT_NONCE, DONOR_NONCE)));
    }

    @Test
    void anEmptyTokenIsTheEmptyKeyOfHmac() throws Exception {
        byte[] proof = HandshakeProof.of("").clientProof(1, CLIENT_NONCE, DONOR_NONCE);
        assertFalse(HandshakeProof.matches(proof, HandshakeProof.of("x").clientProof(1, CLIENT_NONCE, DONOR_NONCE)));
        assertEquals(Frame.PROOF_BYTES, proof.length);
    }

    @Test
    void noncesAreFreshAndOfTheDocumentedSize() {
        byte[] a = HandshakeProof.newNonce();
        assertEquals(Frame.NONCE_BYTES, a.length);
        assertFalse(java.util.Arrays.equals(a, HandshakeProof.newNonce()));
        assertThrows(IllegalArgumentException.class, () -> HandshakeProof.of("t").donorProof(1, new byte[3], DONOR_NONCE));
    }
}
