package dev.pagepool.protocol;

import static dev.pagepool.protocol.DecoderHarness.concat;
import static dev.pagepool.protocol.DecoderHarness.encode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An owner whose bodies need no accounting gets a body that arrived whole in one chunk as a slice of it, with no
 * copy; a body cut across chunks is still gathered into a buffer of its own. Either way the frames are the same,
 * and every chunk is freed once the owner releases the bodies it was handed.
 */
class FrameDecoderSliceTest {
    /** Records bodies unreleased, so a test can check what a slice keeps alive. */
    private static final class SlicingOwner implements FrameDecoder.BodyBuffers, FrameDecoder.Listener {
        final List<ByteBuf> bodies = new ArrayList<>();
        int acquired;

        @Override
        public ByteBuf acquire(int bytes) {
            acquired++;
            return Unpooled.directBuffer(bytes, bytes);
        }

        @Override
        public boolean slicesWholeBodies() {
            return true;
        }

        @Override
        public void onFrame(FrameHeader header, ByteBuf body) {
            assertEquals(header.bodyLength(), body.readableBytes());
            bodies.add(body);
        }

        @Override
        public void onRejected(FrameHeader header, ProtocolException error) {
            throw new AssertionError("rejected: " + error.getMessage());
        }

        @Override
        public void onFramingLost(ProtocolException error) {
            throw new AssertionError("framing lost: " + error.getMessage());
        }

        byte[] body(int i) {
            ByteBuf b = bodies.get(i);
            byte[] bytes = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), bytes);
            return bytes;
        }

        void releaseAll() {
            bodies.forEach(ByteBuf::release);
        }
    }

    private static byte[] getReply(long requestId, int pages, int seed) {
        return encode(out -> {
            int start = FrameWriter.statusVectorReply(out, Opcode.GET, requestId, pages);
            for (int i = 0; i < pages; i++) {
                out.writeByte(Status.PAGE_OK);
            }
            for (int i = 0; i < pages; i++) {
                byte[] page = TestPages.page(seed + i);
                out.writeInt(TestPages.crc32c(page));
                out.writeBytes(page);
            }
            FrameWriter.patchBodyLength(out, start);
        });
    }

    private static byte[] bodyOf(byte[] frame) {
        return java.util.Arrays.copyOfRange(frame, Frame.HEADER_BYTES, frame.length);
    }

    @Test
    void bodiesThatArriveWholeAreSlicesOfTheChunkAndKeepItAliveUntilReleased() {
        byte[] big = getReply(1, 64, 100);
        byte[] ping = encode(out -> FrameWriter.ping(out, 2, 42));
        byte[] small = getReply(3, 1, 7);
        SlicingOwner owner = new SlicingOwner();
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, owner, owner);
        ByteBuf chunk = Unpooled.directBuffer(big.length + ping.length + small.length);
        chunk.writeBytes(concat(big, ping, small));

        decoder.feed(chunk);
        chunk.release(); // what the socket's reader does after every feed

        assertEquals(0, owner.acquired, "no body was gathered into a buffer of its own");
        assertEquals(3, owner.bodies.size());
        assertEquals(3, chunk.refCnt(), "each body still holds the chunk");
        assertArrayEquals(bodyOf(big), owner.body(0));
        assertArrayEquals(bodyOf(ping), owner.body(1));
        assertArrayEquals(bodyOf(small), owner.body(2));
        owner.releaseAll();
        assertEquals(0, chunk.refCnt(), "the chunk is freed with the last body");
    }

    @Test
    void aBodyCutAcrossChunksIsGatheredAndTheFramesAreTheSame() {
        byte[] big = getReply(1, 64, 100);
        byte[] small = getReply(2, 1, 7);
        byte[] stream = concat(big, small, big);
        // Cuts: inside the first big body, then one chunk holding the rest of it, all of the small frame and the
        // header and part of the next big body, then the rest.
        int[] cuts = {0, 70_000, big.length + small.length + Frame.HEADER_BYTES + 10, stream.length};
        SlicingOwner owner = new SlicingOwner();
        FrameDecoder decoder = new FrameDecoder(Frame.MAX_BODY_BYTES, owner, owner);
        List<ByteBuf> chunks = new ArrayList<>();
        for (int i = 0; i + 1 < cuts.length; i++) {
            ByteBuf chunk = Unpooled.directBuffer(cuts[i + 1] - cuts[i]);
            chunk.writeBytes(stream, cuts[i], cuts[i + 1] - cuts[i]);
            decoder.feed(chunk);
            chunk.release();
            chunks.add(chunk);
        }

        assertEquals(3, owner.bodies.size());
        assertEquals(2, owner.acquired, "the two big bodies were cut, the small one came whole");
        assertArrayEquals(bodyOf(big), owner.body(0));
        assertArrayEquals(bodyOf(small), owner.body(1));
        assertArrayEquals(bodyOf(big), owner.body(2));
        owner.releaseAll();
        for (ByteBuf chunk : chunks) {
            assertEquals(0, chunk.refCnt(), "every chunk is freed");
        }
    }
}
