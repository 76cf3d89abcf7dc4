package dev.pagepool.agent.cli;

import io.vertx.core.net.SocketAddress;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;

/**
 * Where the agent serves its export. The export is the host's memory, and NBD has no authentication here: by
 * default a Unix socket only root (and the agent's user) can open, TCP only when asked for.
 */
record ExportAddress(SocketAddress address, String export) {
    static final Path SOCKET_DIR = Path.of("/run/pagepool");

    /**
     * @param nbd    {@code --nbd HOST:PORT}, or null
     * @param socket {@code --socket PATH}, or null
     */
    static ExportAddress choose(String nbd, Path socket, String export) {
        if (nbd != null && socket != null) {
            throw new IllegalArgumentException("--nbd and --socket exclude each other: one export, one address");
        }
        if (nbd != null) {
            HostPort at = HostPort.parse("--nbd", nbd);
            return new ExportAddress(SocketAddress.inetSocketAddress(at.port(), at.host()), export);
        }
        if (socket == null && !export.matches("[A-Za-z0-9_-][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("the export name " + export + " cannot name a socket file: "
                + "give its path with --socket");
        }
        Path path = (socket != null ? socket : SOCKET_DIR.resolve(export + ".sock")).toAbsolutePath().normalize();
        return new ExportAddress(SocketAddress.domainSocketAddress(path.toString()), export);
    }

    /** The URI libnbd's tools take, once the server is bound to {@code port} (unused on a Unix socket). */
    String uri(int port) {
        if (address.isDomainSocket()) {
            return "nbd+unix:///" + export + "?socket=" + address.path();
        }
        String host = address.host().contains(":") ? "[" + address.host() + "]" : address.host();
        return "nbd://" + host + ":" + port + "/" + export;
    }

    /** Any other machine that reaches a TCP address can read and write the host's swap: say so. */
    void warnIfExposed(PrintStream err) {
        if (address.isDomainSocket()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(address.host()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            err.println("WARNING: the NBD export is served on " + address.host() + ", not loopback, without "
                + "authentication: whoever reaches it reads and writes this host's swap. Serve it on a Unix socket "
                + "(leave --nbd out) or on 127.0.0.1.");
        }
    }
}
