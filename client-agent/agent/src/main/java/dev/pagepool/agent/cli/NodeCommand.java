package dev.pagepool.agent.cli;

import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs one donor. Through the {@code pagepool} script the donor JVM replaces the script's process ({@code exec}):
 * the pid the operator or a supervisor sees is the donor's, and its signals and exit status are the donor's. The
 * script asks this command for the donor's command line ({@code --print-command}) and execs it, because a JVM
 * cannot replace itself; run as {@code java -jar} directly, the command starts the donor as a child instead.
 */
@Command(name = "node", description = "Runs one donor in the foreground until Ctrl-C or SIGTERM.")
final class NodeCommand implements Callable<Integer> {
    @Option(names = "--data-port", defaultValue = "7410", description = "Data port (default ${DEFAULT-VALUE}).")
    int dataPort;
    @Option(names = "--http-port", defaultValue = "8080", description = "Admin, health and metrics port (default ${DEFAULT-VALUE}).")
    int httpPort;
    @Option(names = "--capacity", defaultValue = "256m", description = "RAM budget for pages (default ${DEFAULT-VALUE}).")
    String capacity;
    @Option(names = "--members", defaultValue = "", description = "Hazelcast members HOST:PORT,...")
    String members;
    @Option(names = "--hz-port", defaultValue = "0", description = "Hazelcast member port (default 5701).")
    int hzPort;
    @Option(names = "--name", description = "Donor name (default host:data-port).")
    String name;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}", description = "Cluster token (env PAGEPOOL_TOKEN).")
    String token;
    @Option(names = "--heap", defaultValue = "256m", description = "JVM heap of the donor (default ${DEFAULT-VALUE}).")
    String heap;
    @Option(names = "--print-command", hidden = true,
        description = "Prints the donor's command line, NUL-separated, for the pagepool script to exec.")
    boolean printCommand;

    @Override
    public Integer call() throws Exception {
        ByteSize.parse(capacity);
        DonorSettings s = new DonorSettings(name == null ? "donor-" + dataPort : name, dataPort, httpPort, capacity,
            token, members, hzPort, heap, java.util.Map.of());
        List<String> cmd = DonorProcess.command(s, dataPort, httpPort);
        if (printCommand) {
            System.out.print(String.join("\0", cmd) + "\0");
            System.out.flush();
            return 0;
        }
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (p.isAlive()) {
                p.destroy();
                try {
                    p.waitFor(15, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                p.destroyForcibly();
            }
        }));
        return p.waitFor();
    }
}
