package dev.pagepool.agent.state;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Four bits per slot in a buffer of u64 words (a 1 GiB device costs 128 KiB), in the process's memory or in the
 * agent's mapped state file: two for where the slot lives, two spare. Every change is one compare-and-set of an aligned word, so
 * a process that dies mid-change leaves each slot either as it was or as it became, never torn.
 */
public final class SlotPlaces {
    private static final int BITS = 4;
    private static final int PER_WORD = 64 / BITS;
    private static final VarHandle WORDS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final ByteBuffer words;
    private final long slots;

    /** Slot places in {@code words} (direct, for the atomic updates; at least {@link #bytesFor} bytes). */
    public SlotPlaces(ByteBuffer words, long slots) {
        if (slots <= 0 || bytesFor(slots) > Integer.MAX_VALUE || words.capacity() < bytesFor(slots)) {
            throw new IllegalArgumentException("cannot map " + slots + " slots in " + words.capacity() + " bytes");
        }
        this.words = words;
        this.slots = slots;
    }

    /** Slot places in the process's own memory, for a device whose state need not outlive the process. */
    public static SlotPlaces inProcess(long slots) {
        return new SlotPlaces(ByteBuffer.allocateDirect((int) bytesFor(slots)), slots);
    }

    public static long bytesFor(long slots) {
        return (slots + PER_WORD - 1) / PER_WORD * 8;
    }

    public long slots() {
        return slots;
    }

    /** The four bits of {@code slot}. */
    public int get(long slot) {
        long word = (long) WORDS.getVolatile(words, offset(slot));
        return (int) ((word >>> shift(slot)) & 0xF);
    }

    /** Sets the bits of {@code mask} of {@code slot} to {@code value}'s. */
    public void set(long slot, long mask, long value) {
        int at = offset(slot);
        int shift = shift(slot);
        while (true) {
            long old = (long) WORDS.getVolatile(words, at);
            long updated = (old & ~(mask << shift)) | ((value & mask) << shift);
            if (WORDS.compareAndSet(words, at, old, updated)) {
                return;
            }
        }
    }

    private static int offset(long slot) {
        return (int) (slot / PER_WORD) * 8;
    }

    private static int shift(long slot) {
        return (int) (slot % PER_WORD) * BITS;
    }
}
