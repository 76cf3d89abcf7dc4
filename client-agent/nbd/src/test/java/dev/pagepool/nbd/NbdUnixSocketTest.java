package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The export on a Unix socket: only its owner may open it, and a dead agent's socket does not block the next. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdUnixSocketTest {
    private static Vertx vertx;
    private final MemoryBlockDevice device = new MemoryBlockDevice(1024);
    private NbdServer server;
    @TempDir
    Path dir;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
        assertTrue(vertx.isNativeTransportEnabled(), "Unix sockets need the epoll transport");
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        device.close();
    }

    private NbdServer serve(Path socket) {
        server = new NbdServer(vertx, device, NbdServer.DEFAULT_EXPORT,
            SocketAddress.domainSocketAddress(socket.toString()), NbdServer.DEFAULT_RESERVE_BYTES);
        assertEquals(0, server.start(), "a Unix socket has no port");
        return server;
    }

    private static String mode(Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void theSocketIsOwnerOnlyInADirectoryMadeForItAndNbdinfoReadsTheExportThroughIt() throws Exception {
        ToolRun.requireTool("nbdinfo");
        Path socket = dir.resolve("run/pagepool/pagepool.sock");
        serve(socket);
        assertEquals("rwx------", mode(socket.getParent()), "a directory the server created is its own");
        assertEquals("rw-------", mode(socket));
        assertEquals(0140000, (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000,
            "a socket, not a file");
        try (var left = Files.list(socket.getParent())) {
            assertEquals(1, left.count(), "the bind's private directory is gone once the socket is in place");
        }
        ToolRun info = ToolRun.run(60, "nbdinfo", "--size", "nbd+unix:///pagepool?socket=" + socket).ok();
        assertEquals(1024L * BlockDevice.BLOCK_BYTES, Long.parseLong(info.output().strip()), info.output());
        server.close();
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "a stopped server leaves no socket behind");
    }

    @Test
    void aSocketNobodyListensOnAnyMoreIsReplaced() throws Exception {
        Path socket = dir.resolve("pagepool.sock");
        // A server that died without removing its socket, as a killed agent leaves it.
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        serve(socket);
        assertEquals("rw-------", mode(socket));
        assertEquals(0, ToolRun.run(60, "nbdinfo", "--size", "nbd+unix:///pagepool?socket=" + socket).exitCode());
    }

    @Test
    void aSocketSomeoneServesOnOrAFileIsNeverTakenOver() throws Exception {
        Path live = dir.resolve("live.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(live));
            Exception e = assertThrows(RuntimeException.class, () -> serve(live));
            assertTrue(e.getMessage().contains("another process serves on " + live), e.getMessage());
            assertTrue(Files.exists(live, LinkOption.NOFOLLOW_LINKS), "the other server's socket is left alone");
        }
        Path file = Files.writeString(dir.resolve("notes.txt"), "mine");
        Exception e = assertThrows(RuntimeException.class, () -> serve(file));
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertEquals("mine", Files.readString(file));
        server = null;
    }
}
