package dev.pagepool.nbd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The file of a Unix socket that only its owner (and root) can connect to: the export is the host's memory.
 *
 * <p>A socket is created with the process's umask, usually 0755 or 0775, and connecting needs write permission on
 * it; a chmod after the bind would leave a moment in which any local user could connect and keep the connection.
 * So the socket is bound inside a fresh directory of mode 0700 next to its place, set to 0600 there, and only then
 * renamed into place (the same file system: the rename is atomic, and a socket is found by its inode).
 */
final class OwnerOnlySocket {
    /** A socket's file type in {@code st_mode}. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final Path path;
    private final Path stagingDir;
    private boolean published;

    private OwnerOnlySocket(Path path, Path stagingDir) {
        this.path = path;
        this.stagingDir = stagingDir;
    }

    /**
     * Makes room for a socket at {@code path}: its directory (mode 0700 if created here), no file there, or a socket
     * nobody listens on any more (an agent that was killed), which is removed. A socket still answering, or any other
     * file, is refused: another process serves there, or the path was mistyped.
     */
    static OwnerOnlySocket prepare(Path path) {
        Path socket = path.toAbsolutePath().normalize();
        try {
            Path dir = socket.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                removeIfStale(socket);
            }
            Path staging = Files.createTempDirectory(dir, ".nbd",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return new OwnerOnlySocket(socket, staging);
        } catch (IOException e) {
            // e.g. AccessDeniedException, whose message is only the path: name the kind too.
            throw new UncheckedIOException("cannot prepare the NBD socket " + socket + ": " + e, e);
        }
    }

    private static void removeIfStale(Path socket) throws IOException {
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(socket + " exists and is not a socket");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException("another process serves on " + socket);
        } catch (ConnectException nobodyListens) {
            Files.delete(socket);
        }
    }

    /** Where the server binds: a short name inside the private directory (a socket's path is at most 107 bytes). */
    Path bindPath() {
        return stagingDir.resolve("s");
    }

    /** After the bind: mode 0600, then into place. */
    void publish() {
        try {
            Files.setPosixFilePermissions(bindPath(), PosixFilePermissions.fromString("rw-------"));
            Files.move(bindPath(), path, StandardCopyOption.ATOMIC_MOVE);
            published = true;
            Files.delete(stagingDir);
        } catch (IOException e) {
            delete();
            throw new UncheckedIOException("cannot publish the NBD socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Removes the socket (the server stopped: nobody may find a dead socket there) and the staging directory. */
    void delete() {
        try {
            Files.deleteIfExists(bindPath());
            Files.deleteIfExists(stagingDir);
            if (published) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            // best effort: a stale socket is removed by the next start
        }
    }
}
