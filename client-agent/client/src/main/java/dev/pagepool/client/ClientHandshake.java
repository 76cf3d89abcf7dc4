package dev.pagepool.client;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.Opcode;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;

/**
 * The client's half of the version-2 handshake, as an asynchronous step: HELLO with a fresh nonce, a check of the
 * donor's proof of the token, then AUTH with this client's proof. The token never travels, and the client proves
 * nothing, and sends no page, to a donor that has not first proven that it knows the token: an endpoint that
 * joined the membership without the token learns neither the token nor a page.
 *
 * <p>Nothing here blocks: each step is sent when the previous reply completes, on whatever thread completes it
 * (an event loop, typically). The connection supplies the means to send a frame and receive its reply.
 */
public final class ClientHandshake {
    /** How a frame goes out on the connection and its reply comes back; the reply body is the caller's to release. */
    @FunctionalInterface
    public interface Exchange {
        CompletableFuture<DonorReply> send(long requestId, ByteBuf frame);
    }

    /** What the donor said of itself: its name, its limits, and its id (null from a donor that sends none). */
    public record Result(String donorName, int maxPagesPerFrame, int maxBodyBytes, java.util.UUID donorId) {
    }

    private ClientHandshake() {
    }

    /**
     * Runs the handshake. The future completes once both sides are proven, or fails with
     * {@link UnauthenticatedException} (the donor's proof is wrong, or it refused this client's),
     * {@link ProtocolViolationException} (a malformed reply), or the exchange's own failure.
     */
    public static CompletableFuture<Result> run(String donor, String token, long clientId, PoolSecret poolSecret,
                                                LongSupplier requestIds, Exchange exchange) {
        return run(donor, token, clientId, poolSecret, requestIds, exchange, 0);
    }

    /**
     * The handshake with HELLO flags ({@code Frame.HELLO_CALLS_ONLY} for a connection that carries calls only). AUTH
     * proves the owner key {@code poolSecret} gives on this donor, which opens this client's private pools there.
     */
    public static CompletableFuture<Result> run(String donor, String token, long clientId, PoolSecret poolSecret,
                                                LongSupplier requestIds, Exchange exchange, int helloFlags) {
        HandshakeProof proof = HandshakeProof.of(token);
        byte[] clientNonce = HandshakeProof.newNonce();
        long helloId = requestIds.getAsLong();
        ByteBuf hello = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.HELLO_BYTES);
        FrameWriter.hello(hello, helloId, clientId, clientNonce, helloFlags);
        return exchange.send(helloId, hello).thenCompose(reply -> {
            Result result;
            byte[] clientProof;
            dev.pagepool.protocol.OwnerKey ownerKey;
            try {
                ByteBuf b = reply.body();
                if (reply.header().opcode() != Opcode.HELLO || b.readableBytes() < Frame.HELLO_REPLY_FIXED_BYTES) {
                    throw new ProtocolViolationException("HELLO reply of " + b.readableBytes() + " bytes from donor " + donor
                        + " is shorter than " + Frame.HELLO_REPLY_FIXED_BYTES + ": not a version-" + Frame.VERSION + " donor");
                }
                int r = b.readerIndex();
                byte[] donorNonce = new byte[Frame.NONCE_BYTES];
                b.getBytes(r + Frame.HELLO_REPLY_NONCE_OFFSET, donorNonce);
                byte[] donorProof = new byte[Frame.PROOF_BYTES];
                b.getBytes(r + Frame.HELLO_REPLY_PROOF_OFFSET, donorProof);
                java.util.UUID donorId = Bodies.helloReplyDonorId(b);
                if (donorId == null) {
                    throw new ProtocolViolationException("HELLO reply from donor " + donor + " names no donor id, which the"
                        + " proof must cover: a donor older than this client; upgrade it");
                }
                if (!HandshakeProof.matches(proof.donorProof(clientId, donorId, clientNonce, donorNonce), donorProof)) {
                    throw new UnauthenticatedException("donor " + donor + " could not prove that it knows the cluster token:"
                        + " proof mismatch for the donor id it claims (" + donorId + ") and this connection's nonces (an"
                        + " impostor, a relay passing another donor's handshake off as its own, or a donor started with"
                        + " another token): nothing was sent to it");
                }
                result = new Result(Bodies.helloReplyName(b), b.getUnsignedShort(r + 2),
                    (int) Math.min(Integer.MAX_VALUE, b.getUnsignedInt(r + 4)), donorId);
                clientProof = proof.clientProof(clientId, donorId, clientNonce, donorNonce);
                ownerKey = poolSecret.ownerKeyOn(donorId);
            } catch (PagePoolException e) {
                throw new CompletionException(e);
            } finally {
                reply.body().release();
            }
            long authId = requestIds.getAsLong();
            ByteBuf auth = FrameBuffers.allocate(Frame.HEADER_BYTES + Frame.AUTH_BYTES);
            FrameWriter.auth(auth, authId, clientProof, ownerKey);
            return exchange.send(authId, auth).thenApply(ok -> {
                ok.body().release();
                return result;
            });
        });
    }
}
