package dev.pagepool.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.io.File;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The peer a user would otherwise pick for a remote page cache: a Hazelcast IMap&lt;Long, byte[]&gt; in a
 * member JVM, driven by a client JVM (this one) over loopback. Measures the same shapes as
 * {@code pagepool bench}: pages put and got per second with batches of {@code --batch} pages
 * ({@code putAll}/{@code getAll}) over {@code --threads} threads, and single-page synchronous latency.
 *
 * <p>Prints one JSON object as its last line with the same keys as {@code pagepool bench --json}.
 * Run by {@code bench/peers.sh}, on a plain class path: the member JVM it starts reuses this JVM's class path.
 */
public final class ImapPeerBenchmark {
    private static final int PAGE_BYTES = 4096;
    private static final long MEMBER_START_TIMEOUT_SECONDS = 60;

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        int pages = Integer.parseInt(opts.getOrDefault("--pages", "100000"));
        int batch = Integer.parseInt(opts.getOrDefault("--batch", "64"));
        int threads = Integer.parseInt(opts.getOrDefault("--threads", "4"));
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = Files.createTempFile("imap-peer", ".yaml");
        Files.writeString(config, """
            hazelcast:
              cluster-name: imap-peer
              properties:
                hazelcast.phone.home.enabled: false
                hazelcast.logging.type: none
              network:
                port:
                  port: %d
                  auto-increment: false
                join:
                  multicast:
                    enabled: false
                  auto-detection:
                    enabled: false
                interfaces:
                  enabled: true
                  interfaces: [127.0.0.1]
            """.formatted(port));
        Process member = new ProcessBuilder(javaBin(), "-Xmx4g", "-Dhazelcast.config=" + config,
            "-cp", System.getProperty("java.class.path"), "com.hazelcast.core.server.HazelcastMemberStarter")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        HazelcastInstance client = null;
        try {
            ClientConfig cc = new ClientConfig();
            cc.setClusterName("imap-peer");
            cc.setProperty("hazelcast.logging.type", "none");
            cc.getNetworkConfig().addAddress("127.0.0.1:" + port);
            cc.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(
                TimeUnit.SECONDS.toMillis(MEMBER_START_TIMEOUT_SECONDS));
            client = HazelcastClient.newHazelcastClient(cc);
            IMap<Long, byte[]> map = client.getMap("pages");
            byte[] page = new byte[PAGE_BYTES];
            new Random(42).nextBytes(page);

            // Single-page synchronous latency, as the single-client pagepool bench measures it.
            int latencyOps = Math.min(pages, 20000);
            Histogram putLatency = new Histogram(3);
            Histogram getLatency = new Histogram(3);
            for (int i = 0; i < latencyOps; i++) {
                long t0 = System.nanoTime();
                map.set((long) -i - 1, page);
                putLatency.recordValue((System.nanoTime() - t0) / 1000);
            }
            for (int i = 0; i < latencyOps; i++) {
                long t0 = System.nanoTime();
                byte[] got = map.get((long) -i - 1);
                getLatency.recordValue((System.nanoTime() - t0) / 1000);
                if (got == null) {
                    throw new IllegalStateException("IMap lost key " + (-i - 1));
                }
            }
            map.clear();

            // Batched throughput.
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            int perThread = pages / threads;
            long t0 = System.nanoTime();
            Future<?>[] fs = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                long base = (long) t * perThread;
                fs[t] = pool.submit(() -> {
                    Map<Long, byte[]> b = new HashMap<>();
                    for (int i = 0; i < perThread; i++) {
                        b.put(base + i, page);
                        if (b.size() == batch) {
                            map.putAll(b);
                            b.clear();
                        }
                    }
                    if (!b.isEmpty()) {
                        map.putAll(b);
                    }
                    return null;
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
            double putSeconds = (System.nanoTime() - t0) / 1e9;
            long[] missing = new long[threads];
            t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                long base = (long) t * perThread;
                int slot = t;
                fs[t] = pool.submit(() -> {
                    Set<Long> keys = new TreeSet<>();
                    for (int i = 0; i < perThread; i++) {
                        keys.add(base + i);
                        if (keys.size() == batch || i == perThread - 1) {
                            missing[slot] += keys.size() - map.getAll(keys).size();
                            keys.clear();
                        }
                    }
                    return null;
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
            double getSeconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            long total = (long) perThread * threads;
            long lost = 0;
            for (long m : missing) {
                lost += m;
            }
            System.out.printf("hazelcast imap: %d pages, batch %d, %d threads: put %.0f pages/s, get %.0f pages/s; "
                    + "single-page sync p50/p99 put %d/%d us, get %d/%d us%n", total, batch, threads,
                total / putSeconds, total / getSeconds, putLatency.getValueAtPercentile(50),
                putLatency.getValueAtPercentile(99), getLatency.getValueAtPercentile(50), getLatency.getValueAtPercentile(99));
            System.out.printf("{\"peer\":\"hazelcast-imap\",\"pages\":%d,\"batch\":%d,\"threads\":%d,"
                    + "\"ops_per_sec_put\":%.0f,\"ops_per_sec_get\":%.0f,\"p50_us_put\":%d,\"p99_us_put\":%d,"
                    + "\"p50_us_get\":%d,\"p99_us_get\":%d,\"missing\":%d}%n", total, batch, threads,
                total / putSeconds, total / getSeconds, putLatency.getValueAtPercentile(50),
                putLatency.getValueAtPercentile(99), getLatency.getValueAtPercentile(50),
                getLatency.getValueAtPercentile(99), lost);
        } finally {
            if (client != null) {
                client.shutdown();
            }
            member.destroy();
            member.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(config);
        }
    }

    private static String javaBin() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value pairs, got " + args[i]);
            }
            m.put(args[i], args[i + 1]);
        }
        return m;
    }
}
