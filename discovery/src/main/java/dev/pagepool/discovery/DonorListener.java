package dev.pagepool.discovery;

/**
 * Told when donors join or leave a {@link ClusterView}, and when a donor publishes a new load. Called on
 * Hazelcast event threads: return quickly and never block (hand work to an executor of your own).
 */
public interface DonorListener {
    default void donorAdded(DonorInfo donor) {
    }

    /** The donor left, or was declared dead by the cluster's failure detection; {@code donor} is its last state. */
    default void donorRemoved(DonorInfo donor) {
    }

    default void loadChanged(DonorInfo donor) {
    }
}
