package dev.pagepool.agent.bench;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PoolRef;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Unmeasured rounds of a load, each on a pool of its own, until one passes in which the compilers of this JVM and
 * of the donors were nearly idle. One fixed-size warm-up is not enough on a small machine: there the JIT's queue
 * lags the load, so C2 was still compiling the get path seconds into the measured run (2 cores: 40% of the
 * client's samples in C2 during it), and the figures measured the compiler rather than the page path.
 * The rounds must run the measured run's code with the measured run's arguments, the progress consumer
 * included: a consumer of another class at the load's inlined call site makes C2 throw away and redo the
 * compiled load loop when the measured run starts.
 */
public final class WarmUp {
    /** A round is settled when the compilers' time, over all their threads, is under this share of its time. */
    public static final double SETTLED_SHARE = 0.02;

    /** How many rounds ran, whether the last one was settled, and its compilers' share of its time. */
    public record Outcome(int rounds, boolean settled, double lastJitShare) { }

    private WarmUp() {
    }

    /** Runs rounds of {@code pages} pages until one is settled or {@code maxRounds} have run. */
    public static Outcome run(PagePoolClient client, Supplier<PoolRef> newPool, String poolKind, double compressible,
                              long pages, int batch, int threads, boolean verify, LongConsumer progress,
                              int maxRounds) throws Exception {
        double share = Double.NaN;
        for (int round = 1; round <= maxRounds; round++) {
            PoolRef pool = newPool.get();
            try {
                share = new PageLoad(client, pool, poolKind, compressible).run(pages, batch, threads, verify, progress)
                    .jitShare();
            } finally {
                client.destroyPool(pool);
            }
            if (share < SETTLED_SHARE) {
                return new Outcome(round, true, share);
            }
        }
        return new Outcome(maxRounds, false, share);
    }
}
