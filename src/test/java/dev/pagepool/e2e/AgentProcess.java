package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.launch.DonorProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code pagepool agent} as a process, as an operator starts it; always stopped by close. */
final class AgentProcess implements AutoCloseable {
    /** The JVM of an agent whose footprint a test does not measure: room enough that no test hangs on memory. */
    private static final List<String> ROOMY_JVM = List.of("-Xms512m", "-Xmx512m");

    private final List<String> command;
    private final Process process;
    private final Path log;
    final int port;
    /** Where its health and metrics are served. */
    final int httpPort;

    private AgentProcess(List<String> command, Process process, Path log, int port, int httpPort) {
        this.command = command;
        this.process = process;
        this.log = log;
        this.port = port;
        this.httpPort = httpPort;
    }

    /**
     * Starts the agent with {@code args} on a free NBD port and waits until it serves. Its state goes to a
     * directory of its own unless {@code args} name one: agents of different tests must not resume each other.
     */
    static AgentProcess start(List<String> args) throws Exception {
        int port = DonorProcess.freePort();
        return start(List.of("--nbd", "127.0.0.1:" + port), port, args);
    }

    /** Starts the agent with {@code args} on the Unix socket {@code socket} and waits until it serves. */
    static AgentProcess startOnSocket(Path socket, List<String> args) throws Exception {
        return start(List.of("--socket", socket.toString()), -1, args);
    }

    /**
     * Starts the agent with {@code args} on a free NBD port, its JVM sized as the launcher sizes it for those
     * arguments ({@link #launcherOptions}): for a test of what the agent costs its host.
     */
    static AgentProcess startAsLaunched(List<String> args) throws Exception {
        int port = DonorProcess.freePort();
        return start(List.of("--nbd", "127.0.0.1:" + port), port, args, launcherOptions(args));
    }

    /** {@code pagepool agent} as the JVM itself (no launcher in between): its pid is the agent's. */
    static List<String> command(List<String> args) {
        return command(ROOMY_JVM, args);
    }

    private static List<String> command(List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", jar().toString(), "agent"));
        cmd.addAll(args);
        return cmd;
    }

    static Path root() {
        return Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
    }

    /** The agent's shaded jar, as the build leaves it. */
    static Path jar() {
        Path jar = root().resolve("client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        return jar;
    }

    /** The JVM options the launcher gives an agent started with {@code args}: the agent runs as an operator's would. */
    static List<String> launcherOptions(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(root().resolve("pagepool").toString(), "agent-jvm-options"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertTrue(p.waitFor() == 0 && out.startsWith("-X"), "pagepool agent-jvm-options: " + out);
        return new ArrayList<>(List.of(out.split("\\s+")));
    }

    private static AgentProcess start(List<String> exportArgs, int port, List<String> args) throws Exception {
        return start(exportArgs, port, args, ROOMY_JVM);
    }

    private static AgentProcess start(List<String> exportArgs, int port, List<String> args, List<String> jvmOptions)
        throws Exception {
        if (!args.contains("--state")) {
            List<String> withState = new ArrayList<>(args);
            withState.addAll(List.of("--state", Files.createTempDirectory("pagepool-agent-state-").toString()));
            args = withState;
        }
        int httpPort = DonorProcess.freePort();
        List<String> cmd = command(jvmOptions, exportArgs);
        cmd.addAll(List.of("--http", "127.0.0.1:" + httpPort));
        cmd.addAll(args);
        return launch(cmd, port, httpPort);
    }

    /**
     * The same agent started again, as an operator restarts it after a crash or for an upgrade: the same command,
     * so the same ports, state and disk file. This one must have ended first.
     */
    AgentProcess again() throws Exception {
        assertTrue(!process.isAlive(), "the agent it replaces has ended");
        return launch(command, port, httpPort);
    }

    /** kill -9: the agent dies without a chance to tidy up. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private static AgentProcess launch(List<String> cmd, int port, int httpPort) throws Exception {
        Path log = Files.createTempFile("pagepool-agent-", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AgentProcess agent = new AgentProcess(List.copyOf(cmd), p, log, port, httpPort);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!servesIn(Files.readString(log))) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                agent.close();
                throw new AssertionError("the agent did not start serving:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return agent;
    }

    /**
     * Whether the agent's log has its whole "serving" line: printf hands a long line to the file in several writes
     * (its parts pass the JDK's 128-byte stdout buffer one by one), and a test that reads the log as soon as the line
     * begins sees it cut off.
     */
    private static boolean servesIn(String log) {
        int at = log.indexOf("serving nbd");
        return at >= 0 && log.indexOf('\n', at) >= 0;
    }

    String uri() {
        return "nbd://127.0.0.1:" + port + "/pagepool";
    }

    long pid() {
        return process.pid();
    }

    /** The agent's resident set now, in KiB, from /proc. */
    long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS for the agent");
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "<unreadable log " + log + ">";
        }
    }

    /** SIGTERM, as an operator stops it; returns the exit code. */
    int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
