package dev.pagepool.node.store;

/**
 * Where and how a page is stored, packed into one long of the page table:
 * <pre>
 *  63                              16 15            3   2    1  0
 *  +---------------------------------+---------------+-----+-----+
 *  | arena address, or fill word     | stored length | ref | enc |
 *  |  48 bits (fill: low 32 of them) |   13 bits     |  1  |  2  |
 *  +---------------------------------+---------------+-----+-----+
 * </pre>
 * 48 address bits reach 256 TiB of arena; 13 length bits hold 0..8191, enough for 4096.
 */
final class Location {
    private static final int ENCODING_MASK = 0x3;
    private static final long REFERENCED_BIT = 0x4;
    private static final int LENGTH_SHIFT = 3;
    private static final int LENGTH_MASK = 0x1FFF;
    private static final int ADDRESS_SHIFT = 16;

    private Location() {
    }

    static long of(long addressOrFill, int length, int encoding) {
        return (addressOrFill << ADDRESS_SHIFT) | ((long) length << LENGTH_SHIFT) | encoding;
    }

    static int encoding(long loc) {
        return (int) (loc & ENCODING_MASK);
    }

    static int length(long loc) {
        return (int) ((loc >>> LENGTH_SHIFT) & LENGTH_MASK);
    }

    static long address(long loc) {
        return loc >>> ADDRESS_SHIFT;
    }

    static int fill(long loc) {
        return (int) (loc >>> ADDRESS_SHIFT);
    }

    static boolean referenced(long loc) {
        return (loc & REFERENCED_BIT) != 0;
    }

    static long withReferenced(long loc, boolean referenced) {
        return referenced ? loc | REFERENCED_BIT : loc & ~REFERENCED_BIT;
    }
}
