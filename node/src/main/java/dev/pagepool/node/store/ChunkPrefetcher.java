package dev.pagepool.node.store;

import java.nio.ByteBuffer;
import org.jboss.logging.Logger;

/**
 * Allocates the arena's next chunk before it is needed, on a thread of its own.
 *
 * <p>A chunk is allocated zeroed, and zeroing faults in every page of it: about 100 ms for 32 MiB on a small
 * VM. Done inside a put, that time is spent under the store's lock on an event loop, and every connection of
 * the donor waits for it. Here the growth that needs a chunk finds one ready, and asks for the next; when puts
 * fill the arena faster than this thread can zero, a growth still zeroes its own ({@code arena_inline_growths}).
 *
 * <p>At most one chunk is kept ready, and only while the budget has room for it beyond the arena; a budget
 * cut drops it ({@link #discard}). {@link #take} never waits: with nothing ready that fits, the caller
 * allocates the chunk itself, as before. Thread-safe: the store's lock is held by the callers of {@link #want},
 * {@link #take}, {@link #discard} and {@link #readyBytes}, never by this thread, which takes no lock but this
 * object's, and that never while it zeroes.
 */
final class ChunkPrefetcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ChunkPrefetcher.class);

    private final Thread thread;
    /** Guarded by this: the size asked for (0: nothing), the chunk made ready, and whether it is closed. */
    private int wantedBytes;
    private ByteBuffer ready;
    private boolean closed;

    ChunkPrefetcher() {
        thread = new Thread(this::run, "pagepool-arena-prefetch");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Asks for a chunk of at most {@code bytes} to be ready. One already ready and no larger is kept, so a budget
     * that moves a little near its limit does not have chunks zeroed and freed over and over.
     */
    synchronized void want(int bytes) {
        if (closed) {
            return;
        }
        if (ready != null && ready.capacity() > bytes) {
            DirectChunks.free(ready);
            ready = null;
        }
        wantedBytes = ready == null ? bytes : 0;
        notifyAll();
    }

    /**
     * The chunk made ready, if it has at most {@code maxBytes}; null otherwise, and a larger one is freed. A
     * chunk still being zeroed is left to finish: the next {@link #want}, usually of the same size, keeps it.
     */
    synchronized ByteBuffer take(int maxBytes) {
        ByteBuffer chunk = ready;
        ready = null;
        if (chunk != null && chunk.capacity() > maxBytes) {
            DirectChunks.free(chunk);
            return null;
        }
        return chunk;
    }

    /** Frees the chunk made ready, and forgets the request: the budget no longer has room for it. */
    synchronized void discard() {
        wantedBytes = 0;
        if (ready != null) {
            DirectChunks.free(ready);
            ready = null;
        }
    }

    /** Bytes held ready for the next growth: resident memory not counted in the arena. */
    synchronized long readyBytes() {
        return ready == null ? 0 : ready.capacity();
    }

    private void run() {
        while (true) {
            int bytes;
            synchronized (this) {
                while (!closed && wantedBytes == 0) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        closed = true;
                    }
                }
                if (closed) {
                    return;
                }
                bytes = wantedBytes;
            }
            ByteBuffer chunk;
            try {
                chunk = DirectChunks.allocate(bytes);
            } catch (OutOfMemoryError e) {
                // The growth that needs it allocates inline and meets the same limit, where it is handled.
                LOG.warnf("could not allocate the arena's next chunk of %d bytes ahead: %s", bytes, e.getMessage());
                synchronized (this) {
                    wantedBytes = 0;
                }
                continue;
            }
            synchronized (this) {
                if (closed || wantedBytes != bytes || ready != null) {
                    DirectChunks.free(chunk); // asked for no longer, or for another size, while it was zeroed
                } else {
                    ready = chunk;
                    wantedBytes = 0;
                }
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            wantedBytes = 0;
            if (ready != null) {
                DirectChunks.free(ready);
                ready = null;
            }
            notifyAll();
        }
    }
}
