package dev.pagepool.agent.cli;

import dev.pagepool.agent.host.HostProtection;
import dev.pagepool.client.NettyBufferCache;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pagepool} command: one entry point for donors, load, stats and the demo. */
@Command(name = "pagepool", mixinStandardHelpOptions = true, version = "pagepool 0.1.0",
    description = "Pools the spare RAM of a cluster into a page store with tmem semantics.",
    subcommands = {DemoCommand.class, NodeCommand.class, AgentCommand.class, BenchCommand.class, StatsCommand.class,
        ClusterCommand.class,
        PutCommand.class, GetCommand.class, CommandLine.HelpCommand.class})
public final class PagePoolCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Held so the level sticks: java.util.logging keeps loggers only weakly. */
    private static final java.util.logging.Logger HAZELCAST_LOG = java.util.logging.Logger.getLogger("com.hazelcast");

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("agent")) {
            HostProtection.restartFlaggedIfPossible(); // does not return when it restarts the JVM
        }
        // Before anything loads Netty's allocator (a command may start a donor or a server before it makes a
        // client), hence here and first.
        NettyBufferCache.apply();
        // The Hazelcast client narrates every connection at INFO; a command's user wants warnings only.
        HAZELCAST_LOG.setLevel(java.util.logging.Level.WARNING);
        System.exit(new CommandLine(new PagePoolCommand())
            .setExecutionExceptionHandler((e, cmd, parsed) -> {
                cmd.getErr().println("pagepool: " + e.getMessage());
                return 2;
            })
            .execute(args));
    }
}
