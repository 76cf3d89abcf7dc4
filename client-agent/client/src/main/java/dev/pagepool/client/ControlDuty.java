package dev.pagepool.client;

/**
 * One kind of the client's background work, done in steps by the {@link ClientConductor}: each call does what is due
 * at {@code nowNanos} and returns at once. A step that asks a donor something only starts the request; its reply
 * records the result, and a later call acts on it, so no step waits and no monitor is held across I/O.
 */
interface ControlDuty {
    /** Does what is due at {@code nowNanos}; returns how much it did (0: nothing was due). */
    int doWork(long nowNanos);
}
