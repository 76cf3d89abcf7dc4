package dev.pagepool.agent.cli;

import dev.pagepool.agent.cluster.ClusterReport;
import dev.pagepool.agent.cluster.DonorRow;
import dev.pagepool.agent.cluster.DonorStatsReader;
import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorDirectory;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorLoad;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cluster", description = "Shows every donor of the Hazelcast cluster: endpoint, operator and effective "
    + "budget, use, pages, compression, watermark, connections, rejected puts and hand-back.")
final class ClusterCommand implements Callable<Integer> {
    /** A cluster just reached lists its members at once; donors' attributes may take a moment more. */
    private static final Duration DONORS_WAIT = Duration.ofSeconds(5);
    /** ANSI: cursor home, clear screen, so that --watch redraws in place like watch(1). */
    private static final String CLEAR = "\033[H\033[2J";
    /** Held so the level sticks (java.util.logging keeps loggers weakly): "donor joined" lines would garble the table. */
    private static final Logger VIEW_LOG = Logger.getLogger(ClusterView.class.getName());

    @Option(names = "--members", required = true, description = "Hazelcast members HOST:PORT,... of the cluster.")
    String members;
    @Option(names = "--cluster-name", defaultValue = "pagepool", description = "Hazelcast cluster name (default ${DEFAULT-VALUE}).")
    String clusterName;
    @Option(names = "--token", defaultValue = "${env:PAGEPOOL_TOKEN:-}", description = "Cluster token (env PAGEPOOL_TOKEN), for STATS.")
    String token;
    @Option(names = "--json", description = "One JSON object with a donors array (with --watch: one per line).")
    boolean json;
    @Option(names = "--watch", description = "Refresh until interrupted.")
    boolean watch;
    @Option(names = "--interval", defaultValue = "2", description = "Seconds between refreshes with --watch (default ${DEFAULT-VALUE}).")
    double interval;

    @Override
    public Integer call() throws Exception {
        if (!(interval >= 0.1)) {
            throw new IllegalArgumentException("--interval must be at least 0.1 seconds, got " + interval);
        }
        long periodMillis = Math.round(interval * 1000);
        VIEW_LOG.setLevel(Level.WARNING);
        try (ClusterView view = ClusterView.connect(clusterName, ClusterSettings.parseMembers(members),
                 ClusterView.DEFAULT_STARTUP_TIMEOUT);
             DonorStatsReader stats = new DonorStatsReader(token)) {
            List<DonorInfo> donors = awaitDonors(view);
            while (true) {
                String out = render(snapshot(view, donors, stats));
                System.out.print(watch && !json ? CLEAR + out : out);
                System.out.flush();
                if (!watch) {
                    return donors.isEmpty() ? 1 : 0;
                }
                Thread.sleep(periodMillis);
                donors = view.donors();
            }
        }
    }

    private String render(ClusterReport report) {
        return json ? report.json() + "\n" : report.table();
    }

    private ClusterReport snapshot(ClusterView view, List<DonorInfo> donors, DonorStatsReader stats) {
        Set<UUID> ids = donors.stream().map(DonorInfo::memberUuid).collect(Collectors.toSet());
        Map<UUID, DonorLoad> loads = DonorDirectory.loads(view.hazelcast()).getAll(ids);
        List<DonorStatsReader.Result> results = stats.read(donors);
        long now = System.currentTimeMillis();
        List<DonorRow> rows = new ArrayList<>(donors.size());
        for (int i = 0; i < donors.size(); i++) {
            DonorInfo d = donors.get(i);
            rows.add(DonorRow.of(d, loads.getOrDefault(d.memberUuid(), DonorLoad.UNKNOWN), results.get(i).stats(),
                results.get(i).error(), now));
        }
        return new ClusterReport(clusterName, rows);
    }

    private static List<DonorInfo> awaitDonors(ClusterView view) throws InterruptedException {
        long deadline = System.nanoTime() + DONORS_WAIT.toNanos();
        List<DonorInfo> donors = view.donors();
        while (donors.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
            donors = view.donors();
        }
        return donors;
    }
}
