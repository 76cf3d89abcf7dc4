package dev.pagepool.node.pressure;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which pressure signals the donor reads, and where. A threshold of 0 turns its signal off.
 *
 * @param enabled           false ignores every signal
 * @param periodMillis      how often signals are read and watermarks enforced
 * @param cgroupMaxFraction keep the cgroup's memory.current at or below this fraction of memory.max
 * @param psiSomeAvg10      shed memory while PSI memory "some avg10" is above this percentage
 * @param minAvailableBytes keep at least this much MemAvailable for the machine
 * @param procRoot          where /proc is
 * @param cgroupRoot        where the cgroup v2 hierarchy is mounted
 */
public record PressureSettings(boolean enabled, long periodMillis, double cgroupMaxFraction, double psiSomeAvg10,
                               long minAvailableBytes, Path procRoot, Path cgroupRoot) {

    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (periodMillis < 10) {
            problems.add("pagepool.pressure.period must be at least 10ms, got " + periodMillis + "ms");
        }
        if (!(cgroupMaxFraction >= 0 && cgroupMaxFraction <= 1.0)) {
            problems.add("pagepool.pressure.cgroup-max-fraction must be within 0..1 (0 disables), got " + cgroupMaxFraction);
        }
        if (!(psiSomeAvg10 >= 0 && psiSomeAvg10 <= 100.0)) {
            problems.add("pagepool.pressure.psi-some-avg10 must be within 0..100 percent (0 disables), got " + psiSomeAvg10);
        }
        if (minAvailableBytes < 0) {
            problems.add("pagepool.pressure.min-available must not be negative (0 disables)");
        }
        return problems;
    }

    @Override
    public String toString() {
        if (!enabled) {
            return "pressure signals off";
        }
        return "pressure every " + periodMillis + "ms: cgroup " + (cgroupMaxFraction > 0 ? cgroupMaxFraction + " of memory.max" : "off")
            + ", psi " + (psiSomeAvg10 > 0 ? "some avg10 > " + psiSomeAvg10 + "%" : "off")
            + ", MemAvailable " + (minAvailableBytes > 0 ? ">= " + minAvailableBytes + " bytes" : "off");
    }
}
