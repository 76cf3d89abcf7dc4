package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * Page contents that tell every page of a test apart, as the bench's {@code PageContent} does: the bytes are
 * random from (object, index, version), and the page ends with those three written out, so a read of the wrong
 * handle, extent or version can never pass for the right one.
 */
final class TestPage {
    private static final int STAMP_BYTES = Long.BYTES + Integer.BYTES + Long.BYTES;

    private TestPage() {
    }

    /** Version {@code version} of page (object, index). */
    static byte[] of(long object, int index, long version) {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(object * 0x9E3779B97F4A7C15L + index * 0xC2B2AE3D27D4EB4FL + version).nextBytes(page);
        ByteBuffer.wrap(page, Frame.PAGE_BYTES - STAMP_BYTES, STAMP_BYTES).putLong(object).putInt(index).putLong(version);
        return page;
    }
}
