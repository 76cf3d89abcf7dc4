package dev.pagepool.e2e.kernel;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code nbdkit memory} on 127.0.0.1 behind a filter: the negative controls of the kernel swap tests (reads that
 * come back corrupted, reads that fail). Closing it kills nbdkit.
 */
public final class Nbdkit implements AutoCloseable {
    private static final String INSTALL = "apt-get install -y nbdkit nbdkit-plugin-dev gcc";
    private final Process process;
    private final Path log;
    public final int port;
    private final Path trigger;

    private Nbdkit(Process process, Path log, int port, Path trigger) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.trigger = trigger;
    }

    /** {@code nbdkit memory} behind a filter (built here with gcc) that flips a byte in every {@code every}-th read. */
    public static Nbdkit corrupting(Path dir, int every) throws IOException, InterruptedException {
        Path source = dir.resolve("corrupt-filter.c");
        GuestImage.copyResource("corrupt-filter.c", source);
        Path so = dir.resolve("corrupt.so");
        GuestImage.Exec gcc = GuestImage.run(120, "gcc", "-shared", "-fPIC", "-O2", "-o", so.toString(), source.toString());
        if (gcc.code() != 0) {
            throw new AssertionError("cannot build the corrupting nbdkit filter (" + INSTALL + "):\n" + gcc.output());
        }
        return start(List.of("--filter=" + so), List.of("memory", "1G", "corrupt-every=" + every), null);
    }

    /**
     * {@code nbdkit memory} behind nbdkit's error filter: once {@link #startFailing()} is called, a share
     * {@code rate} of the reads fail with EIO (before that none, so that swapon can read the swap header).
     */
    public static Nbdkit failingReads(Path dir, String rate) throws IOException, InterruptedException {
        Path trigger = dir.resolve("fail-reads-now");
        return start(List.of("--filter=error"), List.of("memory", "1G", "error=EIO", "error-pread-rate=" + rate,
            "error-pread-file=" + trigger), trigger);
    }

    public void startFailing() throws IOException {
        Files.writeString(trigger, "");
    }

    private static Nbdkit start(List<String> filters, List<String> plugin, Path trigger) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "--foreground", "--exit-with-parent", "-i", "127.0.0.1",
            "-p", Integer.toString(port)));
        cmd.addAll(filters);
        cmd.addAll(plugin);
        Path log = Files.createTempFile("pagepool-nbdkit-", ".log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("nbdkit cannot run (" + INSTALL + "): " + e.getMessage());
        }
        Nbdkit n = new Nbdkit(p, log, port, trigger);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return n;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    n.close();
                    throw new AssertionError(String.join(" ", cmd) + " did not start serving:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
        }
    }

    public String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // a temp file left behind
        }
    }
}
