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

    /** {@code pagepool agent} as the JVM itself (no launcher in between): its pid is the agent's. */
    static List<String> command(List<String> args) {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        Path jar = root.resolve("client-agent/agent/target/pagepool-agent-0.1.0-SNAPSHOT-all.jar");
        assertTrue(Files.isRegularFile(jar), "the CLI jar is built before the end-to-end tests: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xms512m", "-Xmx512m", "-jar", jar.toString(), "agent"));
        cmd.addAll(args);
        return cmd;
    }

    private static AgentProcess start(List<String> exportArgs, int port, List<String> args) throws Exception {
        if (!args.contains("--state")) {
            List<String> withState = new ArrayList<>(args);
            withState.addAll(List.of("--state", Files.createTempDirectory("pagepool-agent-state-").toString()));
            args = withState;
        }
        int httpPort = DonorProcess.freePort();
        List<String> cmd = command(exportArgs);
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
        while (!Files.readString(log).contains("serving nbd")) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                agent.close();
                throw new AssertionError("the agent did not start serving:\n" + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return agent;
    }

    String uri() {
        return "nbd://127.0.0.1:" + port + "/pagepool";
    }

    long pid() {
        return process.pid();
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
