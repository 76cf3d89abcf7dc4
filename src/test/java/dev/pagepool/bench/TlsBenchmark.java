package dev.pagepool.bench;

import dev.pagepool.agent.bench.LoadResult;
import dev.pagepool.agent.bench.PageLoad;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.ClientTls;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PoolRef;
import dev.pagepool.protocol.PoolSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What TLS on the data port costs: the same loads against a plain donor and a TLS donor started side by side in
 * one run, batched (64 pages a frame, several threads) and a single client putting and getting one page at a time.
 * The TLS donor uses the test certificate in {@code src/test/resources/tls}. Run by {@code bench/tls.sh}; figures
 * go to standard output.
 */
public final class TlsBenchmark {
    private static final int P = 4096;
    private static final int BATCH = 64;
    private static final String TOKEN = "tls-bench-token-0123456789abcdef";

    public static void main(String[] args) throws Exception {
        long pages = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        long singlePages = Math.max(1000, pages / 10);
        Path tls = Path.of(System.getProperty("pagepool.home", ".")).resolve("src/test/resources/tls");
        DonorSettings base = DonorSettings.defaults("tls-bench").withCapacity("1g").withToken(TOKEN)
            .with("pagepool.node.reserve", "64m").with("pagepool.cluster.enabled", "false");
        try (DonorProcess plain = DonorProcess.start(base, Duration.ofSeconds(90));
             DonorProcess secure = DonorProcess.start(base.with("pagepool.tls.cert", tls.resolve("donor.pem").toString())
                 .with("pagepool.tls.key", tls.resolve("donor-key.pem").toString()), Duration.ofSeconds(90))) {
            ClientTls trust = ClientTls.trusting(tls.resolve("ca.pem"));
            System.out.printf("%,d pages of 4 KiB batched (%d a frame, %d threads), %,d one at a time (1 thread), "
                + "50%% compressible%n", pages, BATCH, threads, singlePages);
            for (int round = 0; round < 2; round++) { // alternate, so that neither side has the warmer machine
                run("plain, batched", plain, ClientTls.OFF, pages, BATCH, threads);
                run("TLS, batched", secure, trust, pages, BATCH, threads);
                run("plain, single", plain, ClientTls.OFF, singlePages, 1, 1);
                run("TLS, single", secure, trust, singlePages, 1, 1);
            }
        }
    }

    private static void run(String label, DonorProcess donor, ClientTls tls, long pages, int batch, int threads)
            throws Exception {
        ClientConfig config = ClientConfig.of(List.of(donor.dataAddress()), TOKEN).withConnectionsPerNode(threads).withTls(tls);
        try (PagePoolClient client = PagePoolClient.connect(config)) {
            PoolRef pool = client.newPool(PoolSpec.privatePool(true), 1);
            LoadResult r = new PageLoad(client, pool, "persistent", 0.5).run(pages, batch, threads, false, n -> { });
            System.out.printf("%-16s put %,9.0f pages/s (%4.0f MB/s) p50 %6d us p99 %6d us | get %,9.0f pages/s "
                    + "(%4.0f MB/s) p50 %6d us p99 %6d us%n", label, r.putsPerSecond(), r.putsPerSecond() * P / 1e6,
                r.p50UsPut(), r.p99UsPut(), r.getsPerSecond(), r.getsPerSecond() * P / 1e6, r.p50UsGet(), r.p99UsGet());
            client.destroyPool(pool);
        }
    }
}
