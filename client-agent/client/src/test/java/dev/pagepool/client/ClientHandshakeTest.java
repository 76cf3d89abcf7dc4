package dev.pagepool.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.OwnerKey;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The client's half of the handshake against a scripted donor: no network, every step visible. */
class ClientHandshakeTest {
    private static final long CLIENT = 42;
    private static final UUID DONOR = new UUID(7, 7);
    private static final PoolSecret SECRET = new PoolSecret(1, 2);

    /** A donor that knows {@code token}; records what it was sent. */
    private static final class ScriptedDonor implements ClientHandshake.Exchange {
        final HandshakeProof proof;
        final List<byte[]> sent = new ArrayList<>();
        final byte[] donorNonce = HandshakeProof.newNonce();
        byte[] clientNonce;
        /** The id its proof covers, and the id its reply claims: a relay passing another donor's proof off as its own differs. */
        final UUID provedId;
        final UUID claimedId;

        ScriptedDonor(String token) {
            this(token, DONOR, DONOR);
        }

        ScriptedDonor(String token, UUID provedId, UUID claimedId) {
            proof = HandshakeProof.of(token);
            this.provedId = provedId;
            this.claimedId = claimedId;
        }

        @Override
        public CompletableFuture<DonorReply> send(long requestId, ByteBuf frame) {
            sent.add(ByteBufUtil.getBytes(frame));
            frame.skipBytes(Frame.HEADER_BYTES);
            int opcode = sent.get(sent.size() - 1)[Frame.OPCODE_OFFSET];
            ByteBuf reply = Unpooled.buffer();
            if (opcode == Opcode.HELLO) {
                clientNonce = Bodies.helloNonce(frame);
                FrameWriter.helloReply(reply, requestId, 256, Frame.MAX_BODY_BYTES, donorNonce,
                    proof.donorProof(Bodies.helloClientId(frame), provedId, clientNonce, donorNonce), "donor-x", claimedId);
            } else {
                FrameWriter.authReply(reply, requestId);
            }
            frame.release();
            reply.skipBytes(Frame.HEADER_BYTES);
            return CompletableFuture.completedFuture(new DonorReply(
                new FrameHeader(opcode, Frame.FLAG_RESPONSE, requestId, reply.readableBytes(), 0), reply));
        }
    }

    @Test
    void bothSidesProveTheTokenAndTheTokenNeverTravels() throws Exception {
        ScriptedDonor donor = new ScriptedDonor("the-token");
        AtomicLong ids = new AtomicLong(1);
        ClientHandshake.Result result = ClientHandshake.run("d", "the-token", CLIENT, SECRET, ids::getAndIncrement, donor).get();
        assertEquals("donor-x", result.donorName());
        assertEquals(256, result.maxPagesPerFrame());
        assertEquals(2, donor.sent.size(), "HELLO, then AUTH");
        byte[] auth = donor.sent.get(1);
        byte[] expected = donor.proof.clientProof(CLIENT, DONOR, donor.clientNonce, donor.donorNonce);
        assertTrue(java.util.Arrays.equals(expected, java.util.Arrays.copyOfRange(auth, Frame.HEADER_BYTES,
            Frame.HEADER_BYTES + Frame.PROOF_BYTES)));
        OwnerKey key = SECRET.ownerKeyOn(DONOR);
        assertEquals(key, Bodies.authOwnerKey(Unpooled.wrappedBuffer(auth, Frame.HEADER_BYTES, Frame.AUTH_BYTES)),
            "AUTH carries the owner key of this donor, not the pool secret");
        assertEquals(DONOR, result.donorId());
        for (byte[] frame : donor.sent) {
            assertFalse(new String(frame, StandardCharsets.ISO_8859_1).contains("the-token"), "the token is never sent");
        }
    }

    @Test
    void aProofForAnotherDonorIdThanTheOneClaimedIsAMismatchAndGetsNoProof() {
        // A relay that forwards a real donor's handshake but names itself, to be counted as a donor of its own.
        ScriptedDonor relay = new ScriptedDonor("the-token", DONOR, new UUID(6, 6));
        AtomicLong ids = new AtomicLong(1);
        ExecutionException e = assertThrows(ExecutionException.class,
            () -> ClientHandshake.run("d", "the-token", CLIENT, SECRET, ids::getAndIncrement, relay).get());
        assertInstanceOf(UnauthenticatedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("proof mismatch for the donor id it claims"), e.getCause().getMessage());
        assertEquals(1, relay.sent.size(), "no AUTH, no owner key, no page went to it");
    }

    @Test
    void aDonorWithoutTheTokenGetsNoProofFromTheClient() {
        ScriptedDonor impostor = new ScriptedDonor("a-guess");
        AtomicLong ids = new AtomicLong(1);
        ExecutionException e = assertThrows(ExecutionException.class,
            () -> ClientHandshake.run("d", "the-token", CLIENT, SECRET, ids::getAndIncrement, impostor).get());
        assertInstanceOf(UnauthenticatedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("could not prove that it knows the cluster token"));
        assertEquals(1, impostor.sent.size(), "no AUTH, and so no proof to try guesses against, went to the impostor");
    }
}
