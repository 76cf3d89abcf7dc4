package dev.pagepool.node.pressure;

import java.util.List;

/** The signals a donor reads, combined: the tightest headroom wins. */
public final class PressureSignals {
    private final List<PressureSignal> signals;
    private String binding = "";

    public PressureSignals(List<PressureSignal> signals) {
        this.signals = List.copyOf(signals);
    }

    /** The cgroup, PSI and MemAvailable signals whose thresholds are not 0; none when pressure is disabled. */
    public static PressureSignals from(PressureSettings settings) {
        if (!settings.enabled()) {
            return new PressureSignals(List.of());
        }
        List<PressureSignal> on = new java.util.ArrayList<>();
        if (settings.cgroupMaxFraction() > 0) {
            on.add(new CgroupMemorySignal(settings.procRoot(), settings.cgroupRoot(), settings.cgroupMaxFraction()));
        }
        if (settings.psiSomeAvg10() > 0) {
            on.add(new PsiMemorySignal(settings.procRoot(), settings.psiSomeAvg10()));
        }
        if (settings.minAvailableBytes() > 0) {
            on.add(new MemAvailableSignal(settings.procRoot(), settings.minAvailableBytes()));
        }
        return new PressureSignals(on);
    }

    /** The smallest headroom of all signals, or {@link PressureSignal#UNCONSTRAINED}. */
    public long headroomBytes(long donorUsedBytes) {
        long tightest = PressureSignal.UNCONSTRAINED;
        String by = "";
        for (PressureSignal signal : signals) {
            long headroom = signal.headroomBytes(donorUsedBytes);
            if (headroom < tightest) {
                tightest = headroom;
                by = signal.name();
            }
        }
        binding = by;
        return tightest;
    }

    /** The signal that set the last headroom, or "" when none did. */
    public String binding() {
        return binding;
    }

    public List<PressureSignal> signals() {
        return signals;
    }
}
