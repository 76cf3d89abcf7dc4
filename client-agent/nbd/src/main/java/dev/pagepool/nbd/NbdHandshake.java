package dev.pagepool.nbd;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The fixed newstyle handshake, as a parser fed whatever bytes have arrived: TCP may cut the client's
 * messages anywhere, so each step consumes a whole message or nothing.
 *
 * <p>Option data is buffered only for the options that need it (EXPORT_NAME, INFO, GO) and only up to
 * {@link Nbd#MAX_OPTION_BYTES}; any other option's data is answered at once and then discarded as it
 * arrives, so a client announcing gigabytes of option data costs no memory and the session goes on. The
 * connection is dropped only where the spec requires or allows it: bad magic or client flags, an
 * EXPORT_NAME that cannot be served (it has no error reply), and NBD_OPT_ABORT.
 */
final class NbdHandshake {
    /** What the connection should do after a step. */
    enum Step {
        /** Not enough bytes for the next message. */
        MORE,
        /** A message was handled; try the next. */
        AGAIN,
        /** The client chose the export: the transmission phase starts with the next byte. */
        TRANSMISSION,
        /** Close once the replies sent so far are written. */
        CLOSE,
        /** Close at once: the client broke the protocol. */
        DROP
    }

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, DISCARD }

    private final NbdExport export;
    private final Consumer<ByteBuf> out;
    private State state = State.CLIENT_FLAGS;
    private boolean noZeroes;
    private int option;
    private int optionLength;
    private long discard;
    private boolean blockSizeAgreed;

    NbdHandshake(NbdExport export, Consumer<ByteBuf> out) {
        this.export = export;
        this.out = out;
    }

    /**
     * True if the client entered transmission through NBD_OPT_GO asking for NBD_INFO_BLOCK_SIZE: only then may
     * the server hold it to the advertised 512-byte alignment; otherwise any byte range is served.
     */
    boolean blockSizeAgreed() {
        return blockSizeAgreed;
    }

    Step step(ByteBuf in) {
        return switch (state) {
            case CLIENT_FLAGS -> clientFlags(in);
            case OPTION_HEADER -> optionHeader(in);
            case OPTION_DATA -> optionData(in);
            case DISCARD -> discard(in);
        };
    }

    private Step clientFlags(ByteBuf in) {
        if (in.readableBytes() < 4) {
            return Step.MORE;
        }
        int flags = in.readInt();
        if ((flags & ~(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE | Nbd.NBD_FLAG_C_NO_ZEROES)) != 0) {
            return Step.DROP; // the spec: the server MUST drop the connection on unknown client flags
        }
        noZeroes = (flags & Nbd.NBD_FLAG_C_NO_ZEROES) != 0;
        state = State.OPTION_HEADER;
        return Step.AGAIN;
    }

    private Step optionHeader(ByteBuf in) {
        if (in.readableBytes() < 16) {
            return Step.MORE;
        }
        if (in.readLong() != Nbd.IHAVEOPT) {
            return Step.DROP;
        }
        option = in.readInt();
        long length = in.readUnsignedInt();
        switch (option) {
            case Nbd.NBD_OPT_EXPORT_NAME -> {
                if (length > Nbd.MAX_STRING_BYTES) {
                    return Step.DROP; // no error reply exists for EXPORT_NAME, and no export has such a name
                }
                return awaitData(length);
            }
            case Nbd.NBD_OPT_INFO, Nbd.NBD_OPT_GO -> {
                if (length > Nbd.MAX_OPTION_BYTES) {
                    return answerAndDiscard(Nbd.NBD_REP_ERR_TOO_BIG, length);
                }
                return awaitData(length);
            }
            case Nbd.NBD_OPT_ABORT -> {
                // Data is to be ignored, not waited for: the client may close right after sending.
                out.accept(NbdReplies.option(option, Nbd.NBD_REP_ACK));
                return Step.CLOSE;
            }
            case Nbd.NBD_OPT_LIST -> {
                if (length != 0) {
                    return answerAndDiscard(Nbd.NBD_REP_ERR_INVALID, length);
                }
                out.accept(NbdReplies.server(option, export.name()));
                out.accept(NbdReplies.option(option, Nbd.NBD_REP_ACK));
                return Step.AGAIN;
            }
            default -> {
                // Includes STARTTLS (no TLS here), STRUCTURED_REPLY (simple replies only), meta contexts.
                return answerAndDiscard(Nbd.NBD_REP_ERR_UNSUP, length);
            }
        }
    }

    private Step awaitData(long length) {
        optionLength = (int) length;
        state = State.OPTION_DATA;
        return Step.AGAIN;
    }

    /** Replies before the data has arrived, so a client that lied about the length still hears back. */
    private Step answerAndDiscard(int replyType, long length) {
        out.accept(NbdReplies.option(option, replyType));
        discard = length;
        state = discard > 0 ? State.DISCARD : State.OPTION_HEADER;
        return Step.AGAIN;
    }

    private Step discard(ByteBuf in) {
        int n = (int) Math.min(discard, in.readableBytes());
        if (n == 0) {
            return Step.MORE;
        }
        in.skipBytes(n);
        discard -= n;
        if (discard == 0) {
            state = State.OPTION_HEADER;
        }
        return Step.AGAIN;
    }

    private Step optionData(ByteBuf in) {
        if (in.readableBytes() < optionLength) {
            return Step.MORE;
        }
        ByteBuf data = in.readSlice(optionLength);
        state = State.OPTION_HEADER;
        if (option == Nbd.NBD_OPT_EXPORT_NAME) {
            String name = data.toString(StandardCharsets.UTF_8);
            if (!export.matches(name)) {
                return Step.DROP; // the spec: an EXPORT_NAME the server will not serve MUST end the session
            }
            out.accept(NbdReplies.exportName(export, noZeroes));
            return Step.TRANSMISSION;
        }
        return infoOrGo(data);
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: name length, name, count of information requests, the requests. */
    private Step infoOrGo(ByteBuf data) {
        if (data.readableBytes() < 6) {
            return invalid();
        }
        long nameLength = data.readUnsignedInt();
        if (nameLength > data.readableBytes() - 2) {
            return invalid();
        }
        String name = data.readCharSequence((int) nameLength, StandardCharsets.UTF_8).toString();
        int requests = data.readUnsignedShort();
        if (data.readableBytes() != requests * 2) {
            return invalid();
        }
        boolean wantsName = false;
        boolean wantsBlockSize = false;
        for (int i = 0; i < requests; i++) {
            int info = data.readUnsignedShort();
            wantsName |= info == Nbd.NBD_INFO_NAME;
            wantsBlockSize |= info == Nbd.NBD_INFO_BLOCK_SIZE;
        }
        if (!export.matches(name)) {
            out.accept(NbdReplies.option(option, Nbd.NBD_REP_ERR_UNKNOWN));
            return Step.AGAIN;
        }
        out.accept(NbdReplies.infoExport(option, export));
        // Sent unasked too: a client that did not ask may ignore it, and nothing is enforced on it then.
        out.accept(NbdReplies.infoBlockSize(option, export));
        if (wantsName) {
            out.accept(NbdReplies.infoName(option, export.name()));
        }
        out.accept(NbdReplies.option(option, Nbd.NBD_REP_ACK));
        if (option == Nbd.NBD_OPT_GO) {
            blockSizeAgreed = wantsBlockSize;
            return Step.TRANSMISSION;
        }
        return Step.AGAIN;
    }

    private Step invalid() {
        out.accept(NbdReplies.option(option, Nbd.NBD_REP_ERR_INVALID));
        return Step.AGAIN;
    }
}
