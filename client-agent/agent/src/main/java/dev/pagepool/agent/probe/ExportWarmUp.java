package dev.pagepool.agent.probe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Drives the export's data path before the agent publishes it: reads, writes and flushes through the socket, the
 * NBD connection, the swap store, the client and the donors, so that every class that path needs is loaded and
 * its code compiled while memory is plentiful.
 *
 * <p>Why: the agent is locked in RAM on fault ({@code MCL_ONFAULT}), which holds what it has touched, not what it
 * will touch. A class loaded for the first time while the host is out of memory is read from the agent's jar
 * through the page cache, and that read needs a free page the kernel can only make by swapping to this very
 * export: the first swap-out after start then stalls the event loop for seconds, and a kernel's NBD client whose
 * send waits longer than its timeout drops the connection and fails the I/O. Measured in a 288 MiB guest running
 * the agent: the event loop blocked 16 s in {@code ZipFile} reads at the first swap-out, and the guest's swap
 * device failed. Warmed up, the same path runs from memory.
 *
 * <p>What it writes never changes the export: on an export that resumes a previous agent's, each round writes back
 * exactly the bytes it read; on a new export (all zeros, no client ever saw it) it writes a pattern and then the
 * zeros again, because zero blocks never reach a donor and would warm nothing. Rounds alternate one block and
 * {@link #SPAN} bytes, the sizes a swapping kernel sends most.
 */
public final class ExportWarmUp {
    /** One round's larger request: 16 blocks, a swap cluster's write. */
    static final int SPAN = 64 * 1024;
    private static final int BLOCK = 4096;

    private ExportWarmUp() {
    }

    /**
     * What a warm-up did.
     *
     * @param problem null, or why it stopped early: the agent serves anyway, since an export that cannot be warmed
     *     (a page of it lost, donors too slow) is still the host's swap and must be reachable
     */
    public record Result(long requests, long millis, String problem) {
        /** One line for the agent's log. */
        public String describe() {
            return problem == null
                ? String.format("warmed the export up: %d requests in %d ms", requests, millis)
                : String.format("the export's warm-up stopped after %d requests in %d ms (%s); serving it anyway",
                    requests, millis, problem);
        }
    }

    /** Runs {@code rounds} rounds on the export at {@code socket}, for at most {@code timeoutMillis}. */
    public static Result run(Path socket, String export, boolean resumed, int rounds, long timeoutMillis) {
        long t0 = System.nanoTime();
        AtomicReference<BlockingNbdClient> open = new AtomicReference<>();
        AtomicLong requests = new AtomicLong();
        CompletableFuture<Void> done = CompletableFuture.runAsync(() -> {
            try (BlockingNbdClient nbd = BlockingNbdClient.connect(socket, export)) {
                open.set(nbd);
                rounds(nbd, resumed, rounds, requests);
                nbd.disconnect();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, runnable -> {
            Thread t = new Thread(runnable, "pagepool-warm-up");
            t.setDaemon(true);
            t.start();
        });
        String problem = null;
        try {
            done.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            problem = "not done within " + timeoutMillis + " ms";
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
            problem = cause.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted";
        }
        if (problem != null) {
            closeQuietly(open.get()); // ends a read still blocked, and with it the warm-up's thread
        }
        return new Result(requests.get(), (System.nanoTime() - t0) / 1_000_000, problem);
    }

    private static void rounds(BlockingNbdClient nbd, boolean resumed, int rounds, AtomicLong requests)
        throws IOException {
        int span = Math.min(SPAN, nbd.maxPayload() - nbd.maxPayload() % BLOCK);
        byte[] original = new byte[span];
        byte[] written = new byte[span];
        byte[] back = new byte[span];
        for (int r = 0; r < rounds; r++) {
            int length = r % 2 == 0 ? BLOCK : span;
            nbd.read(0, original, 0, length);
            boolean zeros = isZero(original, length);
            if (!resumed && zeros) {
                // A new export reads as zeros: write something a donor must keep, then the zeros again.
                Arrays.fill(written, 0, length, (byte) (0x5A + r));
                nbd.write(0, written, 0, length);
                nbd.read(0, back, 0, length);
                check(written, back, length, "the pattern written");
                requests.addAndGet(2);
            }
            nbd.write(0, original, 0, length);
            nbd.flush();
            nbd.read(0, back, 0, length);
            check(original, back, length, "the bytes written back");
            requests.addAndGet(4);
        }
    }

    private static boolean isZero(byte[] b, int length) {
        for (int i = 0; i < length; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static void check(byte[] expected, byte[] actual, int length, String what) throws IOException {
        int at = Arrays.mismatch(expected, 0, length, actual, 0, length);
        if (at >= 0) {
            throw new IOException(what + " did not read back: first difference at byte " + at);
        }
    }

    private static void closeQuietly(BlockingNbdClient nbd) {
        if (nbd != null) {
            try {
                nbd.close();
            } catch (IOException e) {
                // closing only to end a blocked read
            }
        }
    }
}
