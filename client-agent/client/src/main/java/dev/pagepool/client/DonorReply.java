package dev.pagepool.client;

import dev.pagepool.protocol.FrameHeader;
import io.netty.buffer.ByteBuf;
import java.util.function.Function;

/**
 * A successful reply from a donor; its receiver owns {@code body} and must release it. Its own type, under every
 * kind of wire ({@link DonorWire}) and the handshake, so that none of them needs the event-loop connection to name it.
 */
public record DonorReply(FrameHeader header, ByteBuf body) {
    /** Runs {@code action} with the reply body and releases it. */
    public static <T> T withBody(DonorReply reply, Function<ByteBuf, T> action) {
        try {
            return action.apply(reply.body());
        } finally {
            reply.body().release();
        }
    }
}
