package dev.pagepool.agent.bench;

import dev.pagepool.client.PagePoolClient;
import java.lang.management.ManagementFactory;

/**
 * CPU time spent so far by this process and by every donor in service, so that a phase's cost per page can be
 * told apart from its speed: on a noisy machine pages per second move with the neighbours, CPU per page does not.
 * A donor reports its own process CPU in its statistics ({@code process_cpu_nanos}).
 */
final class CpuMeter {
    /** Nanoseconds of CPU: this process, and the donors together. */
    record Sample(long clientNanos, long donorNanos) {
        long totalNanos() {
            return clientNanos + donorNanos;
        }
    }

    private final PagePoolClient client;
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    CpuMeter(PagePoolClient client) {
        this.client = client;
    }

    Sample sample() {
        long donors = 0;
        for (int d = 0; d < client.donorCount(); d++) {
            if (client.donorUp(d)) {
                donors += client.stats(d).getOrDefault("process_cpu_nanos", 0L);
            }
        }
        return new Sample(os.getProcessCpuTime(), donors);
    }

    /** Microseconds of CPU per page between two samples. */
    static double usPerPage(Sample from, Sample to, long pages, boolean clientOnly) {
        long nanos = clientOnly ? to.clientNanos() - from.clientNanos() : to.totalNanos() - from.totalNanos();
        return pages == 0 ? 0 : nanos / 1000.0 / pages;
    }
}
