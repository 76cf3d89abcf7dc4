package dev.pagepool.node.store;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;

/** The arena's direct buffers: allocated zeroed, and given back to the OS at once when freed. */
final class DirectChunks {
    /**
     * {@code sun.misc.Unsafe.invokeCleaner}, the usual way (Netty's and Lucene's) to give a direct
     * buffer's memory back without waiting for a collection that may not come while the heap is quiet; a donor
     * whose arena is gigabytes should not hold them past close. Null where it is unavailable: then the chunks
     * are simply dropped and the collector frees them.
     */
    private static final MethodHandle INVOKE_CLEANER = findCleaner();

    private DirectChunks() {
    }

    /** A chunk of {@code bytes}, zeroed: every one of its pages is touched, so it is resident once this returns. */
    static ByteBuffer allocate(int bytes) {
        return ByteBuffer.allocateDirect(bytes);
    }

    static void free(ByteBuffer chunk) {
        if (INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact(chunk);
        } catch (Throwable notFreed) {
            // Left to the collector, as without the handle.
        }
    }

    private static MethodHandle findCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            return MethodHandles.lookup()
                .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                .bindTo(theUnsafe.get(null));
        } catch (ReflectiveOperationException | RuntimeException unavailable) {
            return null;
        }
    }
}
