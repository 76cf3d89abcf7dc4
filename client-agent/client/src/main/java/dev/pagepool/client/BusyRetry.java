package dev.pagepool.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Sends a frame again when the donor answered BUSY: it had no reply buffer free at that instant (its reserve is
 * kept for progress, and a burst of large GETs can take all of it), refused the whole frame and applied nothing.
 * That is flow control, not failure: the frame goes again after a short pause, doubling from 1 ms, for up to
 * about 2 s in all; only then does the caller see the {@link BusyException}.
 */
final class BusyRetry {
    private static final int ATTEMPTS = 16;
    private static final long FIRST_PAUSE_MICROS = 1000;
    private static final long MAX_PAUSE_MICROS = 256_000;
    /** Frames sent again after BUSY, by every client of this JVM (a retry knows no client; the agent has one). */
    static final LongAdder RETRIES = new LongAdder();

    private BusyRetry() {
    }

    /** Sends {@code frame} on {@code wire}, again after each BUSY; the pauses are taken where the wire says. */
    static <T> CompletableFuture<T> send(DonorWire wire, Supplier<CompletableFuture<T>> frame) {
        return attempt(wire, frame, 0, FIRST_PAUSE_MICROS);
    }

    private static <T> CompletableFuture<T> attempt(DonorWire wire, Supplier<CompletableFuture<T>> frame, int tries,
                                                    long pauseMicros) {
        CompletableFuture<T> sent;
        try {
            sent = frame.get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.handle((value, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(value);
            }
            if (!(PagePoolException.causeOf(error) instanceof BusyException) || tries + 1 >= ATTEMPTS) {
                return CompletableFuture.<T>failedFuture(PagePoolException.causeOf(error));
            }
            RETRIES.increment();
            return wire.after(pauseMicros)
                .thenCompose(v -> attempt(wire, frame, tries + 1, Math.min(MAX_PAUSE_MICROS, pauseMicros * 2)));
        }).thenCompose(f -> f);
    }
}
