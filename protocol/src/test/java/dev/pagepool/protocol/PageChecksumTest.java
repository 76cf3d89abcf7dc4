package dev.pagepool.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The end-to-end page checksum is CRC32C, whatever memory the page sits in, and reading it moves no index. */
class PageChecksumTest {
    private static final int OFFSET = 37;

    /** The page at {@link #OFFSET} inside a larger array with noise around it. */
    private static byte[] framed(byte[] page) {
        byte[] all = TestPages.page(-1);
        all = java.util.Arrays.copyOf(all, OFFSET + page.length + 19);
        System.arraycopy(page, 0, all, OFFSET, page.length);
        return all;
    }

    private static int jdkCrc32c(byte[] page) {
        CRC32C crc = new CRC32C();
        crc.update(page);
        return (int) crc.getValue();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 100, Frame.PAGE_BYTES})
    void sameValueForEveryKindOfBufferAndMatchesJdkCrc32c(int length) {
        byte[] page = java.util.Arrays.copyOf(TestPages.page(length), length);
        byte[] framed = framed(page);
        int expected = jdkCrc32c(page);
        PageChecksum checksum = new PageChecksum();

        assertEquals(expected, checksum.of(framed, OFFSET, length), "byte[]");

        ByteBuf heap = Unpooled.wrappedBuffer(framed);
        assertEquals(expected, checksum.of(heap, OFFSET, length), "heap ByteBuf");

        ByteBuf direct = Unpooled.directBuffer(framed.length).writeBytes(framed);
        assertEquals(expected, checksum.of(direct, OFFSET, length), "direct ByteBuf");

        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(framed.length).writeBytes(framed);
        try {
            assertEquals(expected, checksum.of(pooled, OFFSET, length), "pooled direct ByteBuf");
            assertEquals(expected, checksum.of(pooled.slice(OFFSET - 5, length + 5), 5, length), "slice");
        } finally {
            pooled.release();
        }
        assertEquals(expected, checksum.of(heap.asReadOnly(), OFFSET, length), "read-only ByteBuf");

        // Components cut the page in uneven places, heap and direct mixed.
        int a = Math.min(framed.length, OFFSET + length / 3);
        int b = Math.min(framed.length, OFFSET + length / 2 + 1);
        CompositeByteBuf composite = Unpooled.compositeBuffer()
            .addComponent(true, Unpooled.wrappedBuffer(framed, 0, a))
            .addComponent(true, Unpooled.directBuffer(b - a).writeBytes(framed, a, b - a))
            .addComponent(true, Unpooled.wrappedBuffer(framed, b, framed.length - b));
        assertEquals(expected, checksum.of(composite, OFFSET, length), "composite of 3");
        CompositeByteBuf single = Unpooled.compositeBuffer().addComponent(true, Unpooled.wrappedBuffer(framed));
        assertEquals(expected, checksum.of(single, OFFSET, length), "composite of 1");

        assertEquals(expected, checksum.of(ByteBuffer.wrap(framed), OFFSET, length), "heap ByteBuffer");
        ByteBuffer directNio = ByteBuffer.allocateDirect(framed.length).put(framed);
        directNio.clear();
        assertEquals(expected, checksum.of(directNio, OFFSET, length), "direct ByteBuffer");
        assertEquals(expected, checksum.of(ByteBuffer.wrap(framed).asReadOnlyBuffer(), OFFSET, length), "read-only ByteBuffer");
    }

    @Test
    void byteBufferPositionAndLimitAreUnchanged() {
        byte[] page = TestPages.page(3);
        byte[] framed = framed(page);
        PageChecksum checksum = new PageChecksum();
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.wrap(framed), ByteBuffer.allocateDirect(framed.length).put(framed)}) {
            // Position and limit anywhere, including a window that excludes the page entirely.
            int[][] windows = {{0, framed.length}, {5, 9}, {framed.length - 1, framed.length}, {OFFSET + 100, OFFSET + 200}, {0, 0}};
            for (int[] window : windows) {
                buf.limit(window[1]).position(window[0]);
                assertEquals(jdkCrc32c(page), checksum.of(buf, OFFSET, Frame.PAGE_BYTES));
                assertEquals(window[0], buf.position(), "position");
                assertEquals(window[1], buf.limit(), "limit");
            }
        }
    }

    @Test
    void byteBufIndexesAreUnchanged() {
        byte[] framed = framed(TestPages.page(4));
        PageChecksum checksum = new PageChecksum();
        for (ByteBuf buf : new ByteBuf[] {Unpooled.wrappedBuffer(framed), Unpooled.directBuffer(framed.length).writeBytes(framed)}) {
            buf.setIndex(3, 11);
            checksum.of(buf, OFFSET, Frame.PAGE_BYTES);
            assertEquals(3, buf.readerIndex());
            assertEquals(11, buf.writerIndex());
        }
    }

    @Test
    void oneInstanceGivesIndependentResultsCallAfterCall() {
        PageChecksum checksum = new PageChecksum();
        byte[] p1 = TestPages.page(1);
        byte[] p2 = TestPages.page(2);
        int first = checksum.of(p1, 0, p1.length);
        checksum.of(p2, 0, p2.length);
        assertEquals(first, checksum.of(p1, 0, p1.length), "no state carries over between pages");
    }

    @Test
    void knownVectorOfCrc32c() {
        // The standard check value of CRC-32C (Castagnoli) for "123456789".
        byte[] digits = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, new PageChecksum().of(digits, 0, digits.length));
    }
}
