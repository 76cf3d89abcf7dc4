package dev.pagepool.node.pressure;

import java.nio.file.Path;

/**
 * Pressure stall information, {@code /proc/pressure/memory}: the share of the last 10 s in which some task
 * waited for memory ({@code some avg10}). It has no byte figure, so above the threshold the donor sheds a
 * fixed share of its pages per period ({@link #SHED_DIVISOR}), and stops when the stalls stop; below it the
 * signal sets no limit.
 */
public final class PsiMemorySignal extends ProcFileSignal {
    /**
     * Shed 1/16 of the donor's pages per period while stalls are above the threshold: with a 1 s period and
     * avg10 decaying over 10 s, a lasting stall costs about half the pages before the average can fall back.
     */
    static final int SHED_DIVISOR = 16;

    private final double someAvg10Threshold;

    public PsiMemorySignal(Path procRoot, double someAvg10Threshold) {
        super("psi", procRoot.resolve("pressure/memory"), " (kernel without PSI, or psi=0)");
        this.someAvg10Threshold = someAvg10Threshold;
    }

    @Override
    long headroomFrom(String content, long donorUsedBytes) {
        return someAvg10(content) > someAvg10Threshold ? -(Math.max(0, donorUsedBytes) / SHED_DIVISOR) : UNCONSTRAINED;
    }

    /** The avg10 of the "some" line: {@code some avg10=1.23 avg60=0.50 avg300=0.10 total=12345}. */
    static double someAvg10(String content) {
        for (String line : content.split("\n")) {
            if (line.startsWith("some ")) {
                for (String field : line.substring(5).trim().split("\\s+")) {
                    if (field.startsWith("avg10=")) {
                        return Double.parseDouble(field.substring(6));
                    }
                }
            }
        }
        throw new IllegalArgumentException("no 'some avg10=' in " + content.strip());
    }
}
