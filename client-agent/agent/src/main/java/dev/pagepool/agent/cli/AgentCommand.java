package dev.pagepool.agent.cli;

import dev.pagepool.agent.host.HostProtection;
import dev.pagepool.agent.http.AgentHealth;
import dev.pagepool.agent.http.AgentHttpServer;
import dev.pagepool.agent.metrics.AgentMetrics;
import dev.pagepool.agent.probe.ExportWarmUp;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.nbd.NbdServer;
import dev.pagepool.agent.state.AgentState;
import dev.pagepool.agent.swap.SwapStore;
import dev.pagepool.agent.loop.AgentLoops;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "agent", description = "Serves an NBD export backed by the cluster's RAM, with a local disk file for what "
    + "the cluster rejects or hands back. Runs until SIGTERM, then drains cleanly.")
final class AgentCommand implements Callable<Integer> {
    /** How long a stop waits for requests under way; a request is bounded by the client's timeouts, a few seconds. */
    private static final long STOP_WAIT_MILLIS = 10_000;
    /** The warm-up's bound: generous, since a guest on an emulated CPU takes tens of seconds for it. */
    private static final long WARM_UP_MILLIS = 120_000;

    @Mixin
    DonorOptions donorOptions;
    @Option(names = "--size", required = true, description = "Size of the export, e.g. 4g (a multiple of 4 KiB).")
    String size;
    @Option(names = "--disk", required = true, description = "Local file for pages the cluster rejects or hands back "
        + "(created, and emptied when the export starts empty; kept as it is when the export is resumed).")
    Path disk;
    @Option(names = "--state", defaultValue = "/run/pagepool", description = "Directory of the agent's state file "
        + "(<export>.state, memory-mapped; default ${DEFAULT-VALUE}, meant to be tmpfs). An agent started again with "
        + "the same state resumes the same export: its pool on the donors, its slots, its disk file.")
    Path stateDir;
    @Option(names = "--fresh", description = "Start an empty export, discarding any state a previous agent left.")
    boolean fresh;
    @Option(names = "--nbd", description = "Serve the export over TCP on HOST:PORT instead of a Unix socket. Without "
        + "authentication: anyone who reaches it reads and writes the host's swap (warned unless loopback).")
    String nbd;
    @Option(names = "--socket", description = "The Unix socket the export is served on, mode 0600 (default "
        + "/run/pagepool/<export>.sock; the directory is created if missing).")
    Path socket;
    @Option(names = "--require-locked", description = "Refuse to start unless the agent is locked in RAM "
        + "(mlockall), its I/O threads are PR_SET_IO_FLUSHER and its oom_score_adj is -1000. Without it, what "
        + "cannot be had is reported and the agent serves anyway.")
    boolean requireLocked;
    @Option(names = "--export", defaultValue = NbdServer.DEFAULT_EXPORT, description = "Export name (default ${DEFAULT-VALUE}).")
    String export;
    @Option(names = "--replicas", defaultValue = "2", description = "Copies of each page the cluster keeps (default "
        + "${DEFAULT-VALUE}, 1 to 3): a target, not a snapshot. With fewer donors than that, the export runs "
        + "under-replicated (logged, health check 'copies' DEGRADED, metric) and the copies are made as donors join.")
    int replicas;
    @Option(names = "--stall-timeout", defaultValue = "30s", converter = DurationConverter.class, description = "How long a request whose every copy is on "
        + "donors that stopped answering (a network blip, a frozen donor) waits for one of them before it fails "
        + "with EIO (default ${DEFAULT-VALUE}, like the kernel's NBD request timeout); past it, a silent donor is "
        + "taken for gone. Keep the donors' lease (pagepool.node.lease) well above it.")
    java.time.Duration stallTimeout;
    @Option(names = "--http", defaultValue = "127.0.0.1:10810", description = "Where /q/health/live, /q/health/ready "
        + "and /q/metrics are served (default ${DEFAULT-VALUE}, loopback: put a proxy or a firewall rule in front to expose it).")
    String http;
    @Option(names = "--event-loops", defaultValue = "1", description = "Event loops serving the NBD export and the "
        + "donor connections together (default ${DEFAULT-VALUE}): a request runs from the NBD read to its reply on "
        + "one thread. More help only with several NBD connections (a kernel client's multi-conn).")
    int eventLoops;
    @Option(names = "--spin-micros", defaultValue = "50", description = "How long an event loop out of work polls its "
        + "sockets before it sleeps, in microseconds (default ${DEFAULT-VALUE}; 0: never). A donor's reply then finds "
        + "the loop awake instead of paying a thread wake-up on the page fault's path; an idle agent spins once.")
    long spinMicros;
    @Option(names = "--warm-up-rounds", defaultValue = "50", description = "Rounds of reads and writes the agent "
        + "sends its own export before it publishes it on the Unix socket, so that the data path is loaded and "
        + "compiled before a swapping kernel needs it; the export's content does not change (0: none; default "
        + "${DEFAULT-VALUE}).")
    int warmUpRounds;

    @Option(names = "--reserve", defaultValue = "4m", description = "NBD buffers allocated at start, in 128 KiB slabs: 32 requests in flight with the default (${DEFAULT-VALUE}); more wait for buffers.")
    String reserve;

    @Override
    public Integer call() throws Exception {
        long bytes = ByteSize.parse(size).bytes();
        ExportAddress nbdAt = ExportAddress.choose(nbd, socket, export);
        HostPort httpAt = HostPort.parse("--http", http);
        // First, on the main thread: the threads created after it inherit the I/O flusher flag.
        HostProtection protection = HostProtection.apply();
        protection.report(System.out, System.err);
        if (requireLocked) {
            protection.requireAll();
        }
        nbdAt.warnIfExposed(System.err);
        if (spinMicros < 0 || spinMicros > 10_000) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "--spin-micros must be 0..10000, got " + spinMicros);
        }
        if (replicas < 1 || replicas > 3) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "--replicas must be 1..3, got " + replicas);
        }
        if (warmUpRounds < 0) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "--warm-up-rounds must be 0 or more, got " + warmUpRounds);
        }
        if (eventLoops < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "--event-loops must be at least 1, got " + eventLoops);
        }
        try {
            donorOptions.tls();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), e.getMessage());
        }
        CountDownLatch stopped = new CountDownLatch(1);
        // One Vert.x for the export and the client: an NBD request, its frames to the donors and its reply then
        // stay on the event loop that read it, with no hand-off to another thread on the way.
        Vertx vertx = AgentLoops.create(eventLoops, spinMicros, protection::onNewThread);
        try {
            try (DonorNodes donors = donorOptions.resolve();
                 AgentState state = StartState.of(stateDir, new AgentState.Export(export, bytes, disk), fresh, replicas);
                 PagePoolClient client = donorOptions.connect(donors, 2, vertx, stallTimeout, state.clientId(),
                     state.poolSecret());
                 SwapStore swap = SwapStore.open(client, state, new AgentState.Export(export, bytes, disk))) {
                AgentMetrics metrics = new AgentMetrics(swap, client);
                NbdServer server = new NbdServer(vertx, swap, export, nbdAt.address(), ByteSize.parse(reserve).bytes())
                    .observe(metrics.nbdRequests());
                if (warmUpRounds > 0) {
                    server.beforePublish(path -> {
                        ExportWarmUp.Result w = ExportWarmUp.run(path, export, state.resumed(), warmUpRounds, WARM_UP_MILLIS);
                        System.out.println(w.describe());
                        if (w.problem() != null && !state.resumed()) {
                            // A new export's first blocks may still hold the warm-up's pattern. Nobody depends on it
                            // yet: give it up, so that the next start begins a clean one.
                            client.destroyPool(swap.pool());
                            state.delete();
                            throw new IllegalStateException("the new export could not be warmed up (" + w.problem()
                                + "); not serving it");
                        }
                    });
                }
                AgentHttpServer probes = new AgentHttpServer(vertx, httpAt.host(), httpAt.port(),
                    new AgentHealth(vertx, client, disk, swap.pool().replicas()).hostProtection(protection), metrics);
                int httpBound = probes.start();
                int bound = server.start();
                // Said before "serving", which is what operators and tests wait for.
                if (state.resumed()) {
                    System.out.printf("resumed the export from %s: %d slot(s) in the cluster, %d on disk%n",
                        state.path(), swap.census()[1], swap.census()[2]);
                }
                // A resumed pool's donors are suspect until fenced and checked: they count, as they hold its copies.
                int donorsNow = client.upCount() + client.suspectCount();
                if (donorsNow < swap.pool().replicas()) {
                    System.out.printf("under-replicated: %d donor(s) for %d copies; the copies are made as donors join%n",
                        donorsNow, swap.pool().replicas());
                }
                System.out.printf("serving %s: %s on %d donor(s), %d cop%s of each page, disk fallback %s%n",
                    nbdAt.uri(bound), size, donorsNow, swap.pool().replicas(),
                    swap.pool().replicas() == 1 ? "y" : "ies", disk);
                System.out.printf("health and metrics on http://%s:%d/q/health/ready and /q/metrics%n", httpAt.host(), httpBound);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    // SIGTERM: stop taking requests, put what is on disk on stable storage; then, with no NBD client
                    // left, give the pool back and remove the state. With a client still connected (a kernel that
                    // swaps on the export) it is an upgrade: the pool and the state stay for the next agent, within
                    // the donors' lease. All of it here: once the hooks are done the JVM halts. The probes go last,
                    // so that a supervisor sees the agent alive until its pages are safe.
                    boolean upgrade = server.connectionCount() > 0;
                    server.close();
                    // Requests the closed connections left under way finish first: a put that reached a donor after
                    // its pool was destroyed would otherwise leave its page there, owned by nobody.
                    try {
                        if (!swap.quiesce(STOP_WAIT_MILLIS)) {
                            System.out.println("agent stopping with " + swap.inFlight() + " requests still under way");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    swap.flush().join();
                    if (upgrade) {
                        System.out.println("an NBD client is still connected: the export, its pool and " + state.path()
                            + " are kept for the next agent (start it with the same arguments within the donors' lease)");
                    } else {
                        client.destroyPool(swap.pool());
                        state.delete();
                    }
                    probes.close();
                    System.out.println("agent stopped: " + swap.counters().snapshot());
                    stopped.countDown();
                }, "pagepool-agent-stop"));
                stopped.await();
            }
        } finally {
            vertx.close();
        }
        return 0;
    }
}
