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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
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
            List<Future<long[]>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long object = t + 1; // PageLoad's thread t wrote object t + 1, pages 0..perThread
                results.add(workers.submit(() -> readAndWrite(client, pool, object, perThread, end, killedAt, after)));
            }
            Thread.sleep(3000);
            killedAt[0] = System.nanoTime();
            victim.kill();
            long errors = 0;
            long ops = 0;
            for (Future<long[]> f : results) {
                long[] r = f.get();
                ops += r[0];
                errors += r[1];
            }
            workers.shutdown();
            long repairStart = killedAt[0];
            while (client.underReplicatedExtents() > 0 && System.nanoTime() - repairStart < 300_000_000_000L) {
                Thread.sleep(20);
            }
            double repairSeconds = (System.nanoTime() - repairStart) / 1e9;
            long bytes = client.counters().bytesReReplicated();
            synchronized (after) {
                System.out.printf("kill -9 of 1 of 3 donors under load: %,d batches, %d failed; batches started in the 5 s"
                        + " after the kill: p50 %d us, p99 %d us, max %d us%n", ops, errors,
                    after.getValueAtPercentile(50), after.getValueAtPercentile(99), after.getMaxValue());
            }
            System.out.printf("re-replication under that load: %.0f MiB copied, every extent back to 2 copies %.1f s after"
                    + " the kill (%.0f MB/s over that time); %d pages lost%n", bytes / 1048576.0, repairSeconds,
                bytes / 1e6 / repairSeconds, client.counters().pagesLost());

            // The same repair with nothing else running: bring the victim back, let it fill, kill another donor.
            DonorProcess back = DonorProcess.start(victim.settings().withPorts(victim.dataAddress().getPort(), victim.httpPort()),
                Duration.ofSeconds(90));
            donors.set(1, back);
            long deadline = System.nanoTime() + 300_000_000_000L;
            while ((!client.donorUp(1) || client.underReplicatedExtents() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long before = client.counters().bytesReReplicated();
            long[] cpuBefore = {cpuMillis(donors.get(0)), cpuMillis(back), ownCpuMillis()};
            long[] jitBefore = {compilerTicks(donors.get(0).pid()), compilerTicks(back.pid()), compilerTicks(ProcessHandle.current().pid())};
            long t0 = System.nanoTime();
            donors.get(2).kill();
            while (client.underReplicatedExtents() == 0 && System.nanoTime() - t0 < 10_000_000_000L) {
                Thread.sleep(1); // until the client notices
            }
            double noticedMillis = (System.nanoTime() - t0) / 1e6;
            while (client.underReplicatedExtents() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            double idleSeconds = (System.nanoTime() - t0) / 1e9;
            long idleBytes = client.counters().bytesReReplicated() - before;
            System.out.printf("re-replication with no other load: %.0f MiB in %.2f s after the kill: %.0f MB/s (the client"
                    + " noticed the kill after %.0f ms); %d pages lost%n", idleBytes / 1048576.0, idleSeconds,
                idleBytes / 1e6 / idleSeconds, noticedMillis, client.counters().pagesLost());
            // Where the copy's CPU went: on two cores, the copy is as fast as the processes that share them.
            System.out.printf("  CPU meanwhile: donor fb-0 %d ms, donor fb-1 (restarted above) %d ms, this client %d ms%n",
                cpuMillis(donors.get(0)) - cpuBefore[0], cpuMillis(back) - cpuBefore[1], ownCpuMillis() - cpuBefore[2]);
            printCompilerTime(jitBefore, donors.get(0).pid(), back.pid(), ProcessHandle.current().pid());

            // The repair above copies from and to a donor that started a few seconds before, the worst case. The
            // same repair once the cluster has served a while, as when a donor dies in a cluster that has been up
            // for some time: bring fb-2 back, serve reads and writes, let every donor's compilers go quiet, then
            // kill fb-0. (The copy still compiles code that serving never ran: the compilers' share is printed.)
            DonorProcess third = donors.get(2);
            DonorProcess back2 = DonorProcess.start(third.settings().withPorts(third.dataAddress().getPort(), third.httpPort()),
                Duration.ofSeconds(90));
            donors.set(2, back2);
            while ((!client.donorUp(2) || client.underReplicatedExtents() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            long serveEnd = System.nanoTime() + 5_000_000_000L;
            long[] never = {Long.MAX_VALUE};
            ExecutorService servers = Executors.newFixedThreadPool(threads);
            List<Future<long[]>> served = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long object = t + 1;
                served.add(servers.submit(() -> readAndWrite(client, pool, object, perThread, serveEnd, never, after)));
            }
            for (Future<long[]> f : served) {
                f.get();
            }
            servers.shutdown();
            double settleSeconds = settleCompilers(List.of(back, back2), 20);
            long before2 = client.counters().bytesReReplicated();
            long[] cpuBefore2 = {cpuMillis(back), cpuMillis(back2), ownCpuMillis()};
            long[] jitBefore2 = {compilerTicks(back.pid()), compilerTicks(back2.pid()), compilerTicks(ProcessHandle.current().pid())};
            long t2 = System.nanoTime();
            donors.get(0).kill();
            while (client.underReplicatedExtents() == 0 && System.nanoTime() - t2 < 10_000_000_000L) {
                Thread.sleep(1);
            }
            double noticed2Millis = (System.nanoTime() - t2) / 1e6;
            long warmDeadline = t2 + 300_000_000_000L;
            while (client.underReplicatedExtents() > 0 && System.nanoTime() < warmDeadline) {
                Thread.sleep(5);
            }
            double warmSeconds = (System.nanoTime() - t2) / 1e9;
            long warmBytes = client.counters().bytesReReplicated() - before2;
            System.out.printf("re-replication with no other load, after 5 s of serving and with the donors' compilers quiet"
                    + " before the kill (%s): %.0f MiB in %.2f s after the kill: %.0f MB/s (noticed after %.0f ms); %d pages lost%n",
                settleSeconds < 0 ? "NOT quiet after 20 s" : String.format("quiet after %.1f s", settleSeconds),
                warmBytes / 1048576.0, warmSeconds, warmBytes / 1e6 / warmSeconds, noticed2Millis, client.counters().pagesLost());
            System.out.printf("  CPU meanwhile: donor fb-1 %d ms, donor fb-2 %d ms, this client %d ms%n",
                cpuMillis(back) - cpuBefore2[0], cpuMillis(back2) - cpuBefore2[1], ownCpuMillis() - cpuBefore2[2]);
            printCompilerTime(jitBefore2, back.pid(), back2.pid(), ProcessHandle.current().pid());
        }
    }

    /**
     * Waits until the donors' JIT compiler threads used under 5% of the wall time in one second; returns the seconds
     * waited, or -1 if they were still busy after {@code maxSeconds}.
     */
    private static double settleCompilers(List<DonorProcess> donors, int maxSeconds) throws Exception {
        long started = System.nanoTime();
        for (int i = 0; i < maxSeconds; i++) {
            long before = 0;
            for (DonorProcess d : donors) {
                before += compilerTicks(d.pid());
            }
            Thread.sleep(1000);
            long after = 0;
            for (DonorProcess d : donors) {
                after += compilerTicks(d.pid());
            }
            // Linux counts 100 ticks a second: under 5 ticks is under 5% of one second.
            if (after - before < 5) {
                return (System.nanoTime() - started) / 1e9;
            }
        }
        return -1;
    }

    /** Of the CPU above, what the three processes' JIT compilers used: on two cores, the copy waits for it. */
    private static void printCompilerTime(long[] ticksBefore, long... pids) throws IOException {
        long[] ms = new long[pids.length];
        for (int i = 0; i < pids.length; i++) {
            ms[i] = (compilerTicks(pids[i]) - ticksBefore[i]) * 10;
        }
        System.out.printf("  of which their C1 and C2 compiler threads: %d, %d and %d ms%n", ms[0], ms[1], ms[2]);
    }

    /** CPU ticks (utime + stime, 100 a second) of a process's C1 and C2 compiler threads, from /proc. */
    private static long compilerTicks(long pid) throws IOException {
        long ticks = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String comm = Files.readString(task.resolve("comm")).strip();
                    if (!comm.startsWith("C1 Compiler") && !comm.startsWith("C2 Compiler")) {
                        continue;
                    }
                    String stat = Files.readString(task.resolve("stat"));
                    // Fields after the command name, which is in parentheses and may hold spaces.
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (NoSuchFileException gone) {
                    // a compiler thread that ended meanwhile
                }
            }
        }
        return ticks;
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
