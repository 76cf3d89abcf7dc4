package dev.pagepool.agent.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.bench.LoadResult;
import dev.pagepool.agent.bench.PageLoad;
import dev.pagepool.agent.bench.WarmUp;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PoolRef;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Puts pages into donors and gets them back, with latency percentiles.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    DonorOptions donorOptions;
    @Option(names = "--pool", defaultValue = "persistent", description = "persistent or ephemeral (default ${DEFAULT-VALUE}).")
    String pool;
    @Option(names = "--pages", defaultValue = "100000", description = "Pages to put and get (default ${DEFAULT-VALUE}).")
    long pages;
    @Option(names = "--batch", defaultValue = "64", description = "Pages per request, 1..256 (default ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--threads", defaultValue = "4", description = "Client threads, one connection each (default ${DEFAULT-VALUE}).")
    int threads;
    @Option(names = "--compressible", defaultValue = "0", description = "Fraction 0..1 of each page that compresses (default ${DEFAULT-VALUE}).")
    double compressible;
    @Option(names = "--verify", description = "Compare every page read back with what was put.")
    boolean verify;
    @Option(names = "--json", description = "End with one JSON line of the figures.")
    boolean json;
    @Option(names = "--replicas", description = "Copies of each persistent page (default: 2 when 2 donors are up, else 1).")
    Integer replicas;
    @Option(names = "--warmup", defaultValue = "0", description = "Pages of each unmeasured round first, on a pool of "
        + "its own; rounds run until the compilers of this JVM and the donors were nearly idle in one, so that the "
        + "measured run finds the code compiled (default ${DEFAULT-VALUE}: no warm-up).")
    long warmup;
    @Option(names = "--warmup-rounds", defaultValue = "10", description = "At most this many warm-up rounds "
        + "(default ${DEFAULT-VALUE}).")
    int warmupRounds;

    @Override
    public Integer call() throws Exception {
        if (!pool.equals("persistent") && !pool.equals("ephemeral")) {
            throw new IllegalArgumentException("--pool must be persistent or ephemeral, got " + pool);
        }
        if (batch < 1 || batch > 256 || threads < 1 || threads > 64 || pages < threads) {
            throw new IllegalArgumentException("need 1 <= batch <= 256, 1 <= threads <= 64, pages >= threads");
        }
        if (warmup != 0 && warmup < threads) {
            throw new IllegalArgumentException("--warmup is 0 or at least --threads pages, got " + warmup);
        }
        if (warmupRounds < 1 || warmupRounds > 100) {
            throw new IllegalArgumentException("need 1 <= --warmup-rounds <= 100, got " + warmupRounds);
        }
        try (DonorNodes donors = donorOptions.resolve();
             PagePoolClient client = donorOptions.connect(donors, threads);
             ProgressBar bar = ProgressBar.forTerminal(!json, 2 * pages)) {
            PoolSpec spec = PoolSpec.privatePool(pool.equals("persistent"));
            AtomicLong done = new AtomicLong();
            LongConsumer progress = n -> bar.set(done.addAndGet(n));
            Supplier<PoolRef> newPool = () -> replicas == null ? client.newPool(spec) : client.newPool(spec, replicas);
            // The JIT's own CPU would otherwise be counted in the measured run's CPU per page.
            WarmUp.Outcome warm = warmup == 0 ? new WarmUp.Outcome(0, false, Double.NaN)
                : WarmUp.run(client, newPool, pool, compressible, warmup, batch, threads, verify, progress, warmupRounds);
            done.set(0);
            PoolRef ref = newPool.get();
            LoadResult r = new PageLoad(client, ref, pool, compressible).run(pages, batch, threads, verify, progress);
            bar.close();
            client.destroyPool(ref);
            System.out.printf("%,d pages (%s pool, %d cop%s, batch %d, %d threads, %.0f%% compressible) on %d donor(s)%n",
                r.pages(), pool, ref.replicas(), ref.replicas() == 1 ? "y" : "ies", batch, threads, compressible * 100,
                client.knownDonors());
            System.out.printf("put: %,.0f pages/s (%.0f MB/s)  p50 %d us  p99 %d us  p99.9 %d us  rejected %,d%n",
                r.putsPerSecond(), r.putsPerSecond() * Frame.PAGE_BYTES / 1e6, r.p50UsPut(), r.p99UsPut(), r.p999UsPut(), r.rejected());
            System.out.printf("get: %,.0f pages/s (%.0f MB/s)  p50 %d us  p99 %d us  p99.9 %d us%n",
                r.getsPerSecond(), r.getsPerSecond() * Frame.PAGE_BYTES / 1e6, r.p50UsGet(), r.p99UsGet(), r.p999UsGet());
            if (warmup > 0) {
                System.out.printf("warm-up: %d round(s) of %,d pages, %s; compilers during the measured run: %,d ms%n",
                    warm.rounds(), warmup, warm.settled() ? "settled" : String.format("NOT settled (compilers %.0f%% "
                        + "of the last round)", warm.lastJitShare() * 100), r.jitMillis());
            }
            if (verify) {
                System.out.printf("verify: %,d pages identical, %,d mismatches, %,d missing%n",
                    r.verified(), r.mismatches(), r.missing());
            }
            Map<String, Long> failures = client.counters().snapshot();
            if (failures.get("donors_down") > 0) {
                System.out.printf("failures: %s%n", failures);
            }
            if (json) {
                Map<String, Object> figures = new LinkedHashMap<>(r.toMap());
                figures.put("replicas", ref.replicas());
                figures.put("warmup_rounds", warm.rounds());
                figures.put("warmup_settled", warm.settled() ? 1 : 0);
                figures.putAll(failures);
                System.out.println(new ObjectMapper().writeValueAsString(figures));
            }
            boolean failed = r.mismatches() > 0 || (pool.equals("persistent") && r.missing() > 0);
            return failed ? 1 : 0;
        }
    }
}
