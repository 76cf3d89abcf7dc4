package dev.pagepool.node.pressure;

/**
 * One measure of how much memory the donor's machine can still spare. Read once per pressure period, off the
 * data path; a signal whose source is missing or unreadable says {@link #UNCONSTRAINED} and logs why, once.
 */
public interface PressureSignal {
    /** This signal sets no limit now (off, unreadable, or the machine is comfortable by its measure). */
    long UNCONSTRAINED = Long.MAX_VALUE;

    String name();

    /**
     * Bytes the donor's page memory may still grow by, by this signal's measure; negative when the machine
     * is short and the donor should shed that much. {@code donorUsedBytes} is the store's current slab use,
     * for signals that measure pressure without a byte figure (PSI).
     */
    long headroomBytes(long donorUsedBytes);

    /** "on", "idle: ..." or "off: ..." with the reason, for logs and tests. */
    String status();
}
