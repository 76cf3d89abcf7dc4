package dev.pagepool.bench;

import dev.pagepool.agent.bench.LoadResult;
import dev.pagepool.agent.bench.PageLoad;
import dev.pagepool.agent.cluster.ClusterFollower;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.protocol.PoolSpec;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.HdrHistogram.Histogram;

/**
 * What replication costs and what it buys, on 3 donor processes in one Hazelcast cluster on 127.0.0.1:
 * <ol>
 *   <li>put/get throughput on one donor, on 3 donors with 1 copy, and on 3 donors with 2 copies;</li>
 *   <li>the stall a workload sees when one donor is killed with SIGKILL: latency of every batch that started in
 *       the 5 s after the kill;</li>
 *   <li>re-replication: from the kill until every extent has 2 copies again, and the rate it copied at: under load,
 *       with no other load right after a donor restarted, and with no other load once the donors have served a
 *       while and their compilers are quiet.</li>
 * </ol>
 * Run by {@code bench/failover.sh}. Figures go to standard output.
 */
public final class FailoverBenchmark {
    private static final int BATCH = 64;
    private static final int P = 4096;

    public static void main(String[] args) throws Exception {
        long pages = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        List<DonorProcess> donors = new ArrayList<>();
        int[] hz = {DonorProcess.freePort(), DonorProcess.freePort(), DonorProcess.freePort()};
        String members = "127.0.0.1:" + hz[0] + ",127.0.0.1:" + hz[1] + ",127.0.0.1:" + hz[2];
        String cluster = "failover-bench-" + ProcessHandle.current().pid();
        try {
            for (int i = 0; i < 3; i++) {
                donors.add(DonorProcess.start(DonorSettings.defaults("fb-" + i).withCapacity("1g").with("pagepool.node.reserve", "64m")
                    .withCluster(members, hz[i]).with("pagepool.cluster.name", cluster), Duration.ofSeconds(90)));
            }
            List<InetSocketAddress> all = donors.stream().map(DonorProcess::dataAddress).toList();
            System.out.printf("%,d pages of 4 KiB, batch %d, %d threads, 50%% compressible%n", pages, BATCH, threads);
            throughput("1 donor, 1 copy", List.of(all.get(0)), 1, pages, threads);
            throughput("3 donors, 1 copy", all, 1, pages, threads);
            throughput("3 donors, 2 copies", all, 2, pages, threads);
            failover(all, members, cluster, donors, pages, threads);
        } finally {
            donors.forEach(DonorProcess::close);
        }
    }

    private static void throughput(String label, List<InetSocketAddress> nodes, int replicas, long pages, int threads)
            throws Exception {
        try (PagePoolClient client = PagePoolClient.connect(ClientConfig.of(nodes, "").withConnectionsPerNode(threads))) {
            PoolRef pool = client.newPool(PoolSpec.privatePool(true), replicas);
            LoadResult r = new PageLoad(client, pool, "persistent", 0.5).run(pages, BATCH, threads, false, n -> { });
            System.out.printf("%-20s put %,9.0f pages/s (%4.0f MB/s) p99 %6d us | get %,9.0f pages/s (%4.0f MB/s) p99 %6d us%n",
                label, r.putsPerSecond(), r.putsPerSecond() * P / 1e6, r.p99UsPut(), r.getsPerSecond(),
                r.getsPerSecond() * P / 1e6, r.p99UsGet());
            client.destroyPool(pool);
        }
    }

    private static void failover(List<InetSocketAddress> nodes, String members, String cluster, List<DonorProcess> donors,
                                 long pages, int threads) throws Exception {
        DonorProcess victim = donors.get(1);
        try (ClusterView view = ClusterView.connect(cluster, List.of(members.split(",")), Duration.ofSeconds(30));
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(nodes, "").withConnectionsPerNode(threads))) {
            ClusterFollower.follow(client, view);
            PoolRef pool = client.newPool(PoolSpec.privatePool(true), 2);
            new PageLoad(client, pool, "persistent", 0.5).run(pages, BATCH, threads, false, n -> { });
            long perThread = pages / threads;
            Histogram after = new Histogram(60_000_000L, 3);
            long[] killedAt = {Long.MAX_VALUE};
            ExecutorService workers = Executors.newFixedThreadPool(threads);
            long end = System.nanoTime() + 10_000_000_000L;
            List<Future<long[]>> results = startLoad(workers, client, pool, threads, perThread, end, killedAt, after);
            Thread.sleep(3000);
            killedAt[0] = System.nanoTime();
            victim.kill();
            long[] load = sum(results);
            long repairStart = killedAt[0];
            while (client.underReplicatedExtents() > 0 && System.nanoTime() - repairStart < 300_000_000_000L) {
                Thread.sleep(20);
            }
            double repairSeconds = (System.nanoTime() - repairStart) / 1e9;
            long bytes = client.counters().bytesReReplicated();
            synchronized (after) {
                System.out.printf("kill -9 of 1 of 3 donors under load: %,d batches, %d failed; batches started in the 5 s"
                        + " after the kill: p50 %d us, p99 %d us, max %d us%n", load[0], load[1],
                    after.getValueAtPercentile(50), after.getValueAtPercentile(99), after.getMaxValue());
            }
            System.out.printf("re-replication under that load: %.0f MiB copied, every extent back to 2 copies %.1f s after"
                    + " the kill (%.0f MB/s over that time); %d pages lost%n", bytes / 1048576.0, repairSeconds,
                bytes / 1e6 / repairSeconds, client.counters().pagesLost());

            // The same repair with nothing else running: bring the victim back, let it fill, kill another donor. The
            // restarted donor is a few seconds old when the copy runs: the worst case.
            restart(donors, 1, client);
            idleRepair("", client, donors, 2, "donor fb-0", "donor fb-1 (restarted above)");

            // The same repair once the cluster has served a while, as when a donor dies in a cluster that has been up
            // for some time: bring fb-2 back, serve reads and writes, let the donors' compilers go quiet, then kill
            // fb-0. (The copy still compiles code that serving never ran: the compilers' share is printed.)
            restart(donors, 2, client);
            long[] never = {Long.MAX_VALUE};
            long[] served = sum(startLoad(workers, client, pool, threads, perThread, System.nanoTime() + 5_000_000_000L,
                never, after));
            workers.shutdown();
            double quietAfter = quietCompilers(client, List.of(1, 2), 20);
            idleRepair(String.format(", after 5 s of serving (%,d batches, %d failed) and with the donors' compilers quiet"
                    + " before the kill (%s)", served[0], served[1],
                    quietAfter < 0 ? "NOT quiet after 20 s" : String.format("quiet after %.1f s", quietAfter)),
                client, donors, 0, "donor fb-1", "donor fb-2");
        }
    }

    /** One reader-writer per thread until {@code end}, each on the object PageLoad's thread of that number wrote. */
    private static List<Future<long[]>> startLoad(ExecutorService workers, PagePoolClient client, PoolRef pool, int threads,
                                                  long perThread, long end, long[] killedAt, Histogram after) {
        List<Future<long[]>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long object = t + 1; // PageLoad's thread t wrote object t + 1, pages 0..perThread
            results.add(workers.submit(() -> readAndWrite(client, pool, object, perThread, end, killedAt, after)));
        }
        return results;
    }

    /** {batches, failed batches} of all the load's threads, once they are done. */
    private static long[] sum(List<Future<long[]>> results) throws Exception {
        long[] total = new long[2];
        for (Future<long[]> f : results) {
            long[] r = f.get();
            total[0] += r[0];
            total[1] += r[1];
        }
        return total;
    }

    /** Starts donor {@code index} again on its ports and waits until the client uses it and every extent has 2 copies. */
    private static DonorProcess restart(List<DonorProcess> donors, int index, PagePoolClient client) throws Exception {
        DonorProcess dead = donors.get(index);
        DonorProcess back = DonorProcess.start(dead.settings().withPorts(dead.dataAddress().getPort(), dead.httpPort()),
            Duration.ofSeconds(90));
        donors.set(index, back);
        long deadline = System.nanoTime() + 300_000_000_000L;
        while ((!client.donorUp(index) || client.underReplicatedExtents() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return back;
    }

    /**
     * Kills donor {@code victim} with no other load and times the copy that gives every extent 2 copies again; prints
     * its rate, when the client noticed, the CPU of the two survivors and of this client, and their compilers' time.
     */
    private static void idleRepair(String condition, PagePoolClient client, List<DonorProcess> donors, int victim,
                                   String firstSurvivor, String secondSurvivor) throws Exception {
        int[] survivors = victim == 0 ? new int[] {1, 2} : victim == 1 ? new int[] {0, 2} : new int[] {0, 1};
        long before = client.counters().bytesReReplicated();
        long[] cpuBefore = {cpuMillis(donors.get(survivors[0])), cpuMillis(donors.get(survivors[1])), ownCpuMillis()};
        long[] jitBefore = {compileMillis(client, survivors[0]), compileMillis(client, survivors[1]), ownCompileMillis()};
        long t0 = System.nanoTime();
        donors.get(victim).kill();
        while (client.underReplicatedExtents() == 0 && System.nanoTime() - t0 < 10_000_000_000L) {
            Thread.sleep(1); // until the client notices
        }
        double noticedMillis = (System.nanoTime() - t0) / 1e6;
        long deadline = t0 + 300_000_000_000L;
        while (client.underReplicatedExtents() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long bytes = client.counters().bytesReReplicated() - before;
        System.out.printf("re-replication with no other load%s: %.0f MiB in %.2f s after the kill: %.0f MB/s (the client"
                + " noticed the kill after %.0f ms); %d pages lost%n", condition, bytes / 1048576.0, seconds,
            bytes / 1e6 / seconds, noticedMillis, client.counters().pagesLost());
        // Where the copy's CPU went: on two cores, the copy is as fast as the processes that share them.
        System.out.printf("  CPU meanwhile: %s %d ms, %s %d ms, this client %d ms%n",
            firstSurvivor, cpuMillis(donors.get(survivors[0])) - cpuBefore[0],
            secondSurvivor, cpuMillis(donors.get(survivors[1])) - cpuBefore[1], ownCpuMillis() - cpuBefore[2]);
        System.out.printf("  the compilers' time meanwhile (JIT compilation time): %d, %d and %d ms%n",
            compileMillis(client, survivors[0]) - jitBefore[0], compileMillis(client, survivors[1]) - jitBefore[1],
            ownCompileMillis() - jitBefore[2]);
    }

    /**
     * Waits until the donors' compilers spent under 5% of one second compiling; returns the seconds waited, or -1 if
     * they were still at work after {@code maxSeconds}.
     */
    private static double quietCompilers(PagePoolClient client, List<Integer> donors, int maxSeconds) throws Exception {
        long started = System.nanoTime();
        for (int i = 0; i < maxSeconds; i++) {
            long before = 0;
            for (int d : donors) {
                before += compileMillis(client, d);
            }
            Thread.sleep(1000);
            long after = 0;
            for (int d : donors) {
                after += compileMillis(client, d);
            }
            if (after - before < 50) {
                return (System.nanoTime() - started) / 1e9;
            }
        }
        return -1;
    }

    /** The donor's JIT compilation time so far, from the statistics it reports ({@code jit_compile_millis}). */
    private static long compileMillis(PagePoolClient client, int donor) {
        return client.stats(donor).getOrDefault("jit_compile_millis", 0L);
    }

    private static long ownCompileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static long cpuMillis(DonorProcess donor) {
        return ProcessHandle.of(donor.pid()).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toMillis).orElse(-1L);
    }

    private static long ownCpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
    }

    /** Alternates a batch read and a batch rewrite until {@code end}; returns {batches, failed batches}. */
    private static long[] readAndWrite(PagePoolClient client, PoolRef pool, long object, long perThread, long end,
                                       long[] killedAt, Histogram after) {
        SplittableRandom random = new SplittableRandom(object);
        long[] objects = new long[BATCH];
        int[] indexes = new int[BATCH];
        byte[] data = new byte[BATCH * P];
        java.util.Arrays.fill(objects, object);
        long ops = 0;
        long failed = 0;
        while (System.nanoTime() < end) {
            int start = (int) random.nextLong(perThread - BATCH);
            for (int j = 0; j < BATCH; j++) {
                indexes[j] = start + j;
            }
            boolean write = (ops & 1) == 1;
            long t0 = System.nanoTime();
            PageStatus[] st = write ? client.putBatch(pool, objects, indexes, data, BATCH)
                : client.getBatch(pool, objects, indexes, BATCH, false, data);
            long t1 = System.nanoTime();
            for (PageStatus s : st) {
                if (s != PageStatus.OK) {
                    failed++;
                    System.out.println((write ? "put" : "get") + " batch with a page " + s);
                    break;
                }
            }
            ops++;
            if (t0 >= killedAt[0] && t0 - killedAt[0] < 5_000_000_000L) {
                synchronized (after) {
                    after.recordValue(Math.min(after.getHighestTrackableValue(), (t1 - t0) / 1000));
                }
            }
        }
        return new long[] {ops, failed};
    }
}
