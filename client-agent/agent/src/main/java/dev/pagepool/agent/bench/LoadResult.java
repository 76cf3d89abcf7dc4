package dev.pagepool.agent.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a load run measured: pages per second, request latency and CPU per page (this process and the donors
 * together, and this process alone) per phase, and what verification found. {@code jitMillis} is the time the
 * compilers of this process and of the donors spent during the run: near 0 when the run measured compiled code.
 */
public record LoadResult(long pages, int batch, int threads, double compressible, String pool,
                         double putSeconds, double getSeconds, long p50UsPut, long p99UsPut, long p999UsPut,
                         long p50UsGet, long p99UsGet, long p999UsGet, long rejected, long verified,
                         long mismatches, long missing, double cpuUsPerPagePut, double cpuUsPerPageGet,
                         double clientCpuUsPerPagePut, double clientCpuUsPerPageGet, long maxUsPut, long maxUsGet,
                         long jitMillis) {

    public double putsPerSecond() {
        return pages / putSeconds;
    }

    public double getsPerSecond() {
        return pages / getSeconds;
    }

    /** The share of the run's time that the compilers spent, added over every compiler thread of every process. */
    public double jitShare() {
        return jitMillis / ((putSeconds + getSeconds) * 1000);
    }

    /** The keys of {@code pagepool bench --json}, CONTRACT.md's first. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ops_per_sec_put", Math.round(putsPerSecond()));
        m.put("ops_per_sec_get", Math.round(getsPerSecond()));
        m.put("p50_us_put", p50UsPut);
        m.put("p99_us_put", p99UsPut);
        m.put("p50_us_get", p50UsGet);
        m.put("p99_us_get", p99UsGet);
        m.put("pages", pages);
        m.put("rejected", rejected);
        m.put("verified", verified);
        m.put("mismatches", mismatches);
        m.put("missing", missing);
        m.put("p999_us_put", p999UsPut);
        m.put("p999_us_get", p999UsGet);
        m.put("mb_per_sec_put", Math.round(putsPerSecond() * 4096 / 1e6));
        m.put("mb_per_sec_get", Math.round(getsPerSecond() * 4096 / 1e6));
        m.put("batch", batch);
        m.put("threads", threads);
        m.put("compressible", compressible);
        m.put("pool", pool);
        m.put("cpu_us_per_page_put", round2(cpuUsPerPagePut));
        m.put("cpu_us_per_page_get", round2(cpuUsPerPageGet));
        m.put("client_cpu_us_per_page_put", round2(clientCpuUsPerPagePut));
        m.put("client_cpu_us_per_page_get", round2(clientCpuUsPerPageGet));
        // The slowest request: a stall once in 10,000 requests or more (a donor's arena growing, a collection)
        // shows here and in no percentile above.
        m.put("max_us_put", maxUsPut);
        m.put("max_us_get", maxUsGet);
        m.put("jit_ms_measured", jitMillis);
        return m;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
