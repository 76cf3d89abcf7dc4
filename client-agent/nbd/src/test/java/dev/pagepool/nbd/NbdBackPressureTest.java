package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A client that keeps sending while the device does not answer (every donor frozen) must not make the server
 * buffer what it sends: once the reserve is taken, the server stops reading and TCP holds the client back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdBackPressureTest {
    private static final long SENT_BYTES = 32L << 20;
    private static final int REQUEST_BYTES = 128 << 10;
    private static final long RESERVE_BYTES = 1L << 20;
    /**
     * What may be read past the reserve: the reads Netty makes in one go before it sees auto-read off (16 reads of
     * at most 64 KiB by default), with room to spare. Without back-pressure it is nearly all of the 32 MiB.
     */
    private static final long READ_AHEAD_BOUND = 2L << 20;

    private final Vertx vertx = Vertx.vertx();
    private NbdServer server;

    @AfterEach
    void close() throws Exception {
        if (server != null) {
            server.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aClientSendingToAStuckDeviceIsHeldBackByTcp() throws Exception {
        server = new NbdServer(vertx, new StuckDevice(SENT_BYTES / BlockDevice.BLOCK_BYTES), "pagepool",
            "127.0.0.1", 0, RESERVE_BYTES);
        server.start();
        AtomicLong sent = new AtomicLong();
        try (RawNbdClient client = new RawNbdClient(server.port()).greet().go()) {
            Thread writer = new Thread(() -> sendWrites(client, sent), "stuck-device-writer");
            writer.setDaemon(true);
            writer.start();
            long most = 0;
            long sentBefore = -1;
            // Until the client is held back (nothing more goes out for a second) or has sent everything.
            while (sent.get() != sentBefore && sent.get() < SENT_BYTES) {
                sentBefore = sent.get();
                for (int i = 0; i < 10; i++) {
                    most = Math.max(most, server.unparsedBytes());
                    Thread.sleep(100);
                }
            }
            most = Math.max(most, server.unparsedBytes());
            assertTrue(most <= READ_AHEAD_BOUND, "the server buffered " + most + " bytes beyond its " + RESERVE_BYTES
                + "-byte reserve while its device answered nothing (client sent " + sent.get() + ")");
            assertTrue(sent.get() < SENT_BYTES, "the client sent all " + SENT_BYTES + " bytes to a stuck device");
        }
    }

    /** Writes of 128 KiB, one after another, without reading replies; stops when the socket closes. */
    private static void sendWrites(RawNbdClient client, AtomicLong sent) {
        byte[] payload = new byte[REQUEST_BYTES];
        try {
            for (long at = 0; at < SENT_BYTES; at += REQUEST_BYTES) {
                client.request(0, Nbd.NBD_CMD_WRITE, at, at, REQUEST_BYTES, payload);
                sent.addAndGet(Nbd.NBD_REQUEST_BYTES + REQUEST_BYTES);
            }
        } catch (IOException e) {
            // the test is over
        }
    }

    /** Reads zeros at once; a write never completes, as on a cluster whose every donor froze. */
    private record StuckDevice(long blocks) implements BlockDevice {
        @Override
        public CompletableFuture<Void> read(long first, int count, byte[] dst, int offset) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> write(long first, int count, byte[] src, int offset) {
            return new CompletableFuture<>();
        }

        @Override
        public CompletableFuture<Void> trim(long first, int count) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> flush() {
            return CompletableFuture.completedFuture(null);
        }
    }
}
