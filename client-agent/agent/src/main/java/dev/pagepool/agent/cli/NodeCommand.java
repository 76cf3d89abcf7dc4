package dev.pagepool.agent.cli;

import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    @Override
    public Integer call() throws Exception {
        ByteSize.parse(capacity);
        DonorSettings s = new DonorSettings(name == null ? "donor-" + dataPort : name, dataPort, httpPort, capacity,
            token, members, hzPort, heap, java.util.Map.of());
        List<String> cmd = DonorProcess.command(s, dataPort, httpPort);
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
