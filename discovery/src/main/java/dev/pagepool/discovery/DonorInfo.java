package dev.pagepool.discovery;

import java.util.UUID;

/**
 * One donor as the cluster sees it: its endpoint (from its member attributes) joined with its last published
 * load. Immutable: a {@link ClusterView} hands out fresh instances as loads change.
 */
public record DonorInfo(
    String name,
    UUID memberUuid,
    String host,
    int dataPort,
    int httpPort,
    long capacityBytes,
    long usedBytes,
    int pressureLevel,
    long updatedAtMillis,
    UUID donorId) {

    public static DonorInfo of(UUID memberUuid, DonorEndpoint endpoint, DonorLoad load) {
        return new DonorInfo(endpoint.name(), memberUuid, endpoint.host(), endpoint.dataPort(), endpoint.httpPort(),
            load.capacityBytes(), load.usedBytes(), load.pressureLevel(), load.updatedAtMillis(), endpoint.donorId());
    }

    public long freeBytes() {
        return Math.max(0, capacityBytes - usedBytes);
    }

    /** False until the donor published its first load sample. */
    public boolean loadKnown() {
        return updatedAtMillis > 0;
    }

    /** {@code host:dataPort}, the form {@code --nodes} takes. */
    public String dataAddress() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + dataPort;
    }
}
