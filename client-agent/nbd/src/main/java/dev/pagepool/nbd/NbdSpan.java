package dev.pagepool.nbd;

/**
 * A byte range of the export seen as the whole blocks that cover it. The device only knows whole blocks, so
 * every request is widened to its covering blocks; {@code head} is where the client's bytes start inside the
 * first block. An edge block the range covers only partly needs a read-modify-write when written.
 *
 * @param firstBlock first covering block
 * @param blocks     number of covering blocks
 * @param head       offset of the range inside the first block
 * @param length     length of the range in bytes
 */
record NbdSpan(long firstBlock, int blocks, int head, long length) {
    static final int BLOCK = BlockDevice.BLOCK_BYTES;

    /** The covering span of {@code [offset, offset + length)}; length at most 2^32, so the block count fits an int. */
    static NbdSpan of(long offset, long length) {
        long first = offset / BLOCK;
        int head = (int) (offset % BLOCK);
        long last = (offset + length - 1) / BLOCK;
        return new NbdSpan(first, (int) (last - first + 1), head, length);
    }

    /** Bytes of the covering blocks. */
    long spanBytes() {
        return (long) blocks * BLOCK;
    }

    /** Where the range ends inside its last block; 0 means at the block's end. */
    int tailEnd() {
        return (int) ((head + length) % BLOCK);
    }

    boolean headPartial() {
        return head != 0 || (blocks == 1 && tailEnd() != 0);
    }

    boolean tailPartial() {
        return tailEnd() != 0;
    }

    boolean aligned() {
        return !headPartial() && !tailPartial();
    }

    long lastBlock() {
        return firstBlock + blocks - 1;
    }

    /** The blocks the range covers entirely: {@code [fullFirst(), fullFirst() + fullBlocks())}. */
    long fullFirst() {
        return headPartial() ? firstBlock + 1 : firstBlock;
    }

    int fullBlocks() {
        int n = blocks - (headPartial() ? 1 : 0) - (tailPartial() ? 1 : 0);
        return Math.max(n, 0);
    }
}
