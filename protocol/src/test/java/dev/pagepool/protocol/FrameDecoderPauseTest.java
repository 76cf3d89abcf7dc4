package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Back-pressure inside one chunk: a paused decoder leaves the frames after the current one in the chunk. */
class FrameDecoderPauseTest {
    @Test
    void aPauseStopsAfterTheCurrentFrameAndResumeGoesOnFromThere() {
        List<Long> delivered = new ArrayList<>();
        FrameDecoder[] decoder = new FrameDecoder[1];
        decoder[0] = new FrameDecoder(Frame.MAX_BODY_BYTES, Unpooled::buffer, new FrameDecoder.Listener() {
            @Override
            public void onFrame(FrameHeader header, ByteBuf body) {
                body.release();
                delivered.add(header.requestId());
                decoder[0].pause();
            }

            @Override
            public void onRejected(FrameHeader header, ProtocolException error) {
                throw new AssertionError(error.getMessage());
            }

            @Override
            public void onFramingLost(ProtocolException error) {
                throw new AssertionError(error.getMessage());
            }
        });
        ByteBuf chunk = Unpooled.buffer();
        for (long id = 1; id <= 3; id++) {
            FrameWriter.ping(chunk, id, id);
        }
        decoder[0].feed(chunk);
        assertEquals(List.of(1L), delivered);
        assertTrue(decoder[0].paused());
        assertEquals(2 * (Frame.HEADER_BYTES + 8), chunk.readableBytes(), "the rest stays in the chunk, unread");
        decoder[0].feed(chunk);
        assertEquals(List.of(1L), delivered, "paused: nothing more");
        decoder[0].resume();
        decoder[0].feed(chunk);
        decoder[0].resume();
        decoder[0].feed(chunk);
        assertEquals(List.of(1L, 2L, 3L), delivered);
        assertEquals(0, chunk.readableBytes());
    }
}
