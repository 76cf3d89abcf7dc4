package dev.pagepool.agent.launch;

import dev.pagepool.agent.cli.ByteSize;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A donor running as a separate JVM: the packaged Quarkus app, started with its settings as {@code -D} keys.
 * Used by {@code pagepool node}, by {@code pagepool demo} and by the end-to-end tests, which need a real
 * process they can kill.
 *
 * <p>The JVM gets a fixed heap and a direct-memory limit of capacity + reserve + slack, so the donor's
 * footprint is bounded by its settings, whatever clients send.
 */
public final class DonorProcess implements AutoCloseable {
    /** Direct memory beyond capacity and reserve: Netty's pooled socket buffers and Vert.x internals. */
    private static final long DIRECT_SLACK_BYTES = 128L << 20;
    private static final long RESERVE_BYTES = 16L << 20;
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final Process process;
    private final DonorSettings settings;
    private final int dataPort;
    private final int httpPort;
    private final Path log;

    private DonorProcess(Process process, DonorSettings settings, int dataPort, int httpPort, Path log) {
        this.process = process;
        this.settings = settings;
        this.dataPort = dataPort;
        this.httpPort = httpPort;
        this.log = log;
    }

    /** The pagepool checkout or install: the {@code pagepool.home} property, else the working directory. */
    public static Path home() {
        return Path.of(System.getProperty("pagepool.home", ".")).toAbsolutePath().normalize();
    }

    public static Path nodeJar() {
        Path jar = home().resolve("node/target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("donor jar " + jar + " not found: build it with ./mvnw -B -DskipTests install");
        }
        return jar;
    }

    /** A loopback port nobody listens on right now. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The java command line for these settings (ports already chosen). */
    public static List<String> command(DonorSettings s, int dataPort, int httpPort) {
        long capacity = ByteSize.parse(s.capacity()).bytes();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xms" + s.heap());
        cmd.add("-Xmx" + s.heap());
        cmd.add("-XX:MaxDirectMemorySize=" + (capacity + RESERVE_BYTES + DIRECT_SLACK_BYTES));
        cmd.add("-XX:+UseParallelGC");
        cmd.add("-XX:+AlwaysPreTouch");
        cmd.add("-Dpagepool.node.name=" + s.name());
        cmd.add("-Dpagepool.node.data-port=" + dataPort);
        cmd.add("-Dquarkus.http.port=" + httpPort);
        cmd.add("-Dpagepool.node.capacity=" + s.capacity());
        if (!s.token().isEmpty()) {
            cmd.add("-Dpagepool.auth.token=" + s.token());
        }
        if (!s.members().isEmpty()) {
            cmd.add("-Dpagepool.cluster.members=" + s.members());
        }
        if (s.hazelcastPort() > 0) {
            cmd.add("-Dpagepool.cluster.port=" + s.hazelcastPort());
        }
        for (Map.Entry<String, String> e : s.extra().entrySet()) {
            cmd.add("-D" + e.getKey() + "=" + e.getValue());
        }
        cmd.add("-jar");
        cmd.add(nodeJar().toString());
        return cmd;
    }

    /**
     * Starts the donor with its output in a log file and waits until it is ready (bounded by
     * {@code readyTimeout}); fails with the log's tail if it does not get there.
     */
    public static DonorProcess start(DonorSettings settings, Duration readyTimeout) {
        int data = settings.dataPort() == 0 ? freePort() : settings.dataPort();
        int http = settings.httpPort() == 0 ? freePort() : settings.httpPort();
        try {
            Path log = Files.createTempFile("pagepool-donor-" + settings.name() + "-", ".log");
            Process p = new ProcessBuilder(command(settings, data, http))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
            DonorProcess donor = new DonorProcess(p, settings, data, http, log);
            try {
                donor.awaitReady(readyTimeout);
            } catch (RuntimeException e) {
                donor.close();
                throw e;
            }
            return donor;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start donor " + settings.name(), e);
        }
    }

    public void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("donor " + settings.name() + " exited with " + process.exitValue()
                    + ":\n" + logTail(40));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(httpUrl() + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for donor " + settings.name());
            }
            sleep(100);
        }
        throw new IllegalStateException("donor " + settings.name() + " not ready within " + timeout + ":\n" + logTail(40));
    }

    /** The settings it was started with (ports of 0 stay 0: see {@link #dataAddress()} and {@link #httpPort()}). */
    public DonorSettings settings() {
        return settings;
    }

    public InetSocketAddress dataAddress() {
        return new InetSocketAddress("127.0.0.1", dataPort);
    }

    public String dataEndpoint() {
        return "127.0.0.1:" + dataPort;
    }

    public String httpUrl() {
        return "http://127.0.0.1:" + httpPort;
    }

    public int httpPort() {
        return httpPort;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Process process() {
        return process;
    }

    public Path log() {
        return log;
    }

    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** kill -9: the donor vanishes without a word, as on power loss. */
    public void kill() {
        process.destroyForcibly();
        waitFor(STOP_GRACE);
    }

    /** SIGTERM, then a bounded wait, then kill -9. Returns the exit code. */
    public int stop() {
        process.destroy();
        if (!waitFor(STOP_GRACE)) {
            process.destroyForcibly();
            waitFor(STOP_GRACE);
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    /** Sends a POSIX signal by name (STOP, CONT): freezing a donor without killing it. */
    public void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start();
            kill.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean waitFor(Duration d) {
        try {
            return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop();
        }
    }

    @Override
    public String toString() {
        return "donor " + settings.name() + " (pid " + process.pid() + ", data " + dataEndpoint() + ", http " + httpUrl() + ")";
    }

}
