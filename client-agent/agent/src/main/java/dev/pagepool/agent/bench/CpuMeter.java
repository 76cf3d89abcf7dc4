package dev.pagepool.agent.bench;

import dev.pagepool.client.PagePoolClient;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * CPU time spent so far by this process and by every donor in service, so that a phase's cost per page can be
 * told apart from its speed: on a noisy machine pages per second move with the neighbours, CPU per page does not.
 * A donor reports its own process CPU in its statistics ({@code process_cpu_nanos}), and the time its compilers
 * have spent ({@code jit_compile_millis}), which tells a warm-up whether the JIT is still part of that CPU.
 */
final class CpuMeter {
    /** Nanoseconds of CPU of this process and of the donors together; milliseconds of JIT compilation of all. */
    record Sample(long clientNanos, long donorNanos, long compileMillis) {
        long totalNanos() {
            return clientNanos + donorNanos;
        }
    }

    private final PagePoolClient client;
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();

    CpuMeter(PagePoolClient client) {
        this.client = client;
    }

    Sample sample() {
        long donors = 0;
        long compile = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
        for (int d = 0; d < client.donorIndexLimit(); d++) {
            if (client.donorUp(d)) {
                var stats = client.stats(d);
                donors += stats.getOrDefault("process_cpu_nanos", 0L);
                compile += Math.max(0, stats.getOrDefault("jit_compile_millis", 0L));
            }
        }
        return new Sample(os.getProcessCpuTime(), donors, compile);
    }

    /** Microseconds of CPU per page between two samples. */
    static double usPerPage(Sample from, Sample to, long pages, boolean clientOnly) {
        long nanos = clientOnly ? to.clientNanos() - from.clientNanos() : to.totalNanos() - from.totalNanos();
        return pages == 0 ? 0 : nanos / 1000.0 / pages;
    }

    /** Milliseconds the compilers of this process and of the donors spent between two samples. */
    static long compileMillis(Sample from, Sample to) {
        return to.compileMillis() - from.compileMillis();
    }
}
