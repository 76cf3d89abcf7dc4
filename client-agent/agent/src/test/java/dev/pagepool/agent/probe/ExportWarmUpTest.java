package dev.pagepool.agent.probe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.nbd.BlockDevice;
import dev.pagepool.nbd.NbdServer;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-up drives a real NBD server on a Unix socket before it is published, and leaves the export as it was. */
class ExportWarmUpTest {
    private static final int BLOCKS = 64;
    private final Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));

    @AfterEach
    void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void aNewExportIsWrittenWithDataTheDonorsMustKeepAndReadsAsZerosAfterwards(@TempDir Path dir) throws Exception {
        Device device = new Device();
        Path socket = dir.resolve("pagepool.sock");
        AtomicReference<ExportWarmUp.Result> result = new AtomicReference<>();
        AtomicReference<Boolean> publishedDuring = new AtomicReference<>();
        NbdServer server = new NbdServer(vertx, device, NbdServer.DEFAULT_EXPORT,
            SocketAddress.domainSocketAddress(socket.toString()), NbdServer.DEFAULT_RESERVE_BYTES)
            .beforePublish(path -> {
                publishedDuring.set(Files.exists(socket));
                result.set(ExportWarmUp.run(path, NbdServer.DEFAULT_EXPORT, false, 6, 30_000));
            });
        try {
            server.start();
            assertFalse(publishedDuring.get(), "no client could reach the export while it was warmed up");
            assertTrue(Files.exists(socket), "published afterwards");
            assertNull(result.get().problem(), result.get().describe());
            assertEquals(6 * 6, result.get().requests());
            assertTrue(device.nonZeroWrites.get() > 0, "blocks a donor must keep went through the path");
            assertTrue(device.allZero(), "and the new export reads as zeros again");
        } finally {
            server.close();
        }
    }

    @Test
    void aResumedExportOnlyGetsBackTheBytesItHolds(@TempDir Path dir) throws Exception {
        Device device = new Device();
        byte[] held = new byte[BLOCKS * BlockDevice.BLOCK_BYTES];
        Arrays.fill(held, (byte) 7);
        held[5] = 1;
        System.arraycopy(held, 0, device.data, 0, held.length);
        NbdServer server = new NbdServer(vertx, device, NbdServer.DEFAULT_EXPORT,
            SocketAddress.domainSocketAddress(dir.resolve("pagepool.sock").toString()), NbdServer.DEFAULT_RESERVE_BYTES);
        AtomicReference<ExportWarmUp.Result> result = new AtomicReference<>();
        server.beforePublish(path -> result.set(ExportWarmUp.run(path, NbdServer.DEFAULT_EXPORT, true, 4, 30_000)));
        try {
            server.start();
            assertNull(result.get().problem(), result.get().describe());
            assertEquals(0, device.changingWrites.get(), "no write changed a byte of the resumed export");
            assertTrue(device.nonZeroWrites.get() > 0);
            assertArrayEquals(held, device.data);
        } finally {
            server.close();
        }
    }

    @Test
    void anExportThatCannotBeReadStopsTheWarmUpWithItsReasonAndIsStillPublished(@TempDir Path dir) throws Exception {
        Device device = new Device();
        device.failReads = true;
        Path socket = dir.resolve("pagepool.sock");
        AtomicReference<ExportWarmUp.Result> result = new AtomicReference<>();
        NbdServer server = new NbdServer(vertx, device, NbdServer.DEFAULT_EXPORT,
            SocketAddress.domainSocketAddress(socket.toString()), NbdServer.DEFAULT_RESERVE_BYTES)
            .beforePublish(path -> result.set(ExportWarmUp.run(path, NbdServer.DEFAULT_EXPORT, true, 4, 30_000)));
        try {
            server.start();
            assertNotNull(result.get().problem());
            assertTrue(result.get().describe().contains("serving it anyway"), result.get().describe());
            assertTrue(Files.exists(socket));
        } finally {
            server.close();
        }
    }

    /** An export in memory that counts the writes that carry data and the ones that change what it holds. */
    private static final class Device implements BlockDevice {
        final byte[] data = new byte[BLOCKS * BLOCK_BYTES];
        final AtomicInteger nonZeroWrites = new AtomicInteger();
        final AtomicInteger changingWrites = new AtomicInteger();
        volatile boolean failReads;

        @Override
        public long blocks() {
            return BLOCKS;
        }

        @Override
        public synchronized CompletableFuture<Void> read(long first, int count, byte[] dst, int offset) {
            if (failReads) {
                return CompletableFuture.failedFuture(new java.io.IOException("block " + first + " is lost"));
            }
            System.arraycopy(data, (int) first * BLOCK_BYTES, dst, offset, count * BLOCK_BYTES);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public synchronized CompletableFuture<Void> write(long first, int count, byte[] src, int offset) {
            int at = (int) first * BLOCK_BYTES;
            int length = count * BLOCK_BYTES;
            if (Arrays.mismatch(src, offset, offset + length, new byte[length], 0, length) >= 0) {
                nonZeroWrites.incrementAndGet();
            }
            if (Arrays.mismatch(src, offset, offset + length, data, at, at + length) >= 0 && !allZeroBefore(at, length)) {
                changingWrites.incrementAndGet();
            }
            System.arraycopy(src, offset, data, at, length);
            return CompletableFuture.completedFuture(null);
        }

        private boolean allZeroBefore(int at, int length) {
            return Arrays.mismatch(data, at, at + length, new byte[length], 0, length) < 0;
        }

        @Override
        public CompletableFuture<Void> trim(long first, int count) {
            return write(first, count, new byte[count * BLOCK_BYTES], 0);
        }

        @Override
        public CompletableFuture<Void> flush() {
            return CompletableFuture.completedFuture(null);
        }

        synchronized boolean allZero() {
            return Arrays.mismatch(data, new byte[data.length]) < 0;
        }
    }
}
