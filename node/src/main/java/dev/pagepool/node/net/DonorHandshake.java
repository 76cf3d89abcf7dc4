package dev.pagepool.node.net;

import dev.pagepool.protocol.Bodies;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameHeader;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.HandshakeProof;
import dev.pagepool.protocol.OwnerKey;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.ProtocolException;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/**
 * The donor's half of the version-2 handshake on one connection (see docs/protocol.md, "Handshake"):
 * HELLO brings the client's nonce and is answered with the donor's nonce and its proof of the token; AUTH
 * brings the client's proof, checked against the same nonces. Only then is the connection the client id's.
 *
 * <p>Replies are small heap buffers, never reserve buffers: a stranger must not be able to take any of the
 * reserve. Confined to the connection's event loop.
 */
final class DonorHandshake {
    /**
     * This process's id, told to every client: two addresses of one donor (two names of its host, a NAT) then
     * count as one donor, so two copies of a page never land on one process.
     */
    static final java.util.UUID DONOR_ID = java.util.UUID.randomUUID();

    private enum Step { AWAIT_HELLO, AWAIT_AUTH, DONE }

    private final HandshakeProof proof;
    private final String nodeName;
    private Step step = Step.AWAIT_HELLO;
    private long clientId;
    private int helloFlags;
    private byte[] clientNonce;
    private byte[] donorNonce;
    private OwnerKey ownerKey;

    DonorHandshake(HandshakeProof proof, String nodeName) {
        this.proof = proof;
        this.nodeName = nodeName;
    }

    boolean done() {
        return step == Step.DONE;
    }

    long clientId() {
        return clientId;
    }

    /** The key the client proved in AUTH; null before. */
    OwnerKey ownerKey() {
        return ownerKey;
    }

    /** The client asked for a connection that carries its calls only: the donor sends no requests on it. */
    boolean callsOnly() {
        return (helloFlags & Frame.HELLO_CALLS_ONLY) != 0;
    }

    /**
     * Takes the next handshake frame and returns the reply to send. Throws (the connection is then closed)
     * for anything but HELLO then AUTH, another HELLO version, or a wrong client proof.
     */
    ByteBuf onFrame(FrameHeader header, ByteBuf body) throws ProtocolException {
        if (step == Step.AWAIT_HELLO && header.opcode() == Opcode.HELLO) {
            return hello(header, body);
        }
        if (step == Step.AWAIT_AUTH && header.opcode() == Opcode.AUTH) {
            return auth(header, body);
        }
        throw new ProtocolException(Status.UNAUTHENTICATED, true, step == Step.AWAIT_HELLO
            ? "send HELLO first, then AUTH with the proof of the cluster token"
            : "send AUTH with the proof of the cluster token after HELLO");
    }

    private ByteBuf hello(FrameHeader header, ByteBuf body) throws ProtocolException {
        Bodies.checkRequest(header, body);
        int version = Bodies.helloVersion(body);
        if (version != Frame.VERSION) {
            throw new ProtocolException(Status.UNSUPPORTED_VERSION, true,
                "client's HELLO speaks version " + version + ", this donor " + Frame.VERSION);
        }
        clientId = Bodies.helloClientId(body);
        helloFlags = Bodies.helloFlags(body);
        clientNonce = Bodies.helloNonce(body);
        donorNonce = HandshakeProof.newNonce();
        byte[] donorProof = proof.donorProof(clientId, DONOR_ID, clientNonce, donorNonce);
        ByteBuf reply = Unpooled.buffer(Frame.HEADER_BYTES + Frame.HELLO_REPLY_FIXED_BYTES
            + nodeName.getBytes(StandardCharsets.UTF_8).length + Frame.HELLO_REPLY_DONOR_ID_BYTES);
        FrameWriter.helloReply(reply, header.requestId(), Frame.MAX_PAGES_PER_FRAME, Frame.MAX_BODY_BYTES, donorNonce,
            donorProof, nodeName, DONOR_ID);
        step = Step.AWAIT_AUTH;
        return reply;
    }

    private ByteBuf auth(FrameHeader header, ByteBuf body) throws ProtocolException {
        Bodies.checkRequest(header, body);
        byte[] expected = proof.clientProof(clientId, DONOR_ID, clientNonce, donorNonce);
        if (!HandshakeProof.matches(expected, Bodies.authProof(body))) {
            throw new ProtocolException(Status.UNAUTHENTICATED, true, "wrong proof: the client does not know the cluster token");
        }
        ownerKey = Bodies.authOwnerKey(body);
        step = Step.DONE;
        ByteBuf reply = Unpooled.buffer(Frame.HEADER_BYTES);
        FrameWriter.authReply(reply, header.requestId());
        return reply;
    }
}
