package dev.pagepool.discovery;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A donor's embedded Hazelcast member: joins the cluster with its endpoint as member attributes, publishes its
 * load every second, and removes departed donors' load entries when the cluster reports them gone.
 * {@link #start} blocks until the member has joined (or formed a cluster of its own when no listed member
 * answers); {@link #close()} leaves gracefully.
 */
public final class DonorMember implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DonorMember.class.getName());

    private final HazelcastInstance hazelcast;
    private final LoadPublisher publisher;

    private DonorMember(HazelcastInstance hazelcast, LoadPublisher publisher) {
        this.hazelcast = hazelcast;
        this.publisher = publisher;
    }

    public static DonorMember start(ClusterSettings settings, DonorEndpoint endpoint, Supplier<DonorLoad> load) {
        return start(settings, endpoint, load, LoadPublisher.DEFAULT_PERIOD);
    }

    public static DonorMember start(ClusterSettings settings, DonorEndpoint endpoint, Supplier<DonorLoad> load,
                                    Duration publishPeriod) {
        HazelcastInstance hazelcast = Hazelcast.newHazelcastInstance(MemberConfigFactory.create(settings, endpoint));
        try {
            hazelcast.getCluster().addMembershipListener(new DepartedDonorCleaner(hazelcast));
            LoadPublisher publisher = new LoadPublisher(hazelcast, load, publishPeriod);
            hazelcast.getLifecycleService().addLifecycleListener(event -> {
                if (event.getState() == LifecycleEvent.LifecycleState.SHUTDOWN) {
                    publisher.stop();
                }
            });
            publisher.start();
            DonorMember member = new DonorMember(hazelcast, publisher);
            LOG.log(System.Logger.Level.INFO, "donor " + endpoint.name() + " joined cluster '" + settings.clusterName()
                + "' as " + member.uuid() + " at " + hazelcast.getCluster().getLocalMember().getAddress()
                + " (" + member.clusterSize() + " members)");
            return member;
        } catch (RuntimeException e) {
            hazelcast.getLifecycleService().terminate();
            throw e;
        }
    }

    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    /** The member's current UUID (a member that merged back after a split has a new one). */
    public UUID uuid() {
        return hazelcast.getCluster().getLocalMember().getUuid();
    }

    /** True while the member runs and is part of a cluster. */
    public boolean running() {
        return hazelcast.getLifecycleService().isRunning();
    }

    public int clusterSize() {
        return running() ? hazelcast.getCluster().getMembers().size() : 0;
    }

    /** The member's own Hazelcast address, {@code host:port}. */
    public String address() {
        return hazelcast.getCluster().getLocalMember().getAddress().toString();
    }

    /** Stops publishing, removes this donor's load entry and leaves the cluster gracefully. */
    @Override
    public void close() {
        publisher.close();
        if (hazelcast.getLifecycleService().isRunning()) {
            hazelcast.shutdown();
        }
    }

    /** Every member removes a departed donor's load entry: removal is idempotent, and any survivor suffices. */
    private static final class DepartedDonorCleaner implements MembershipListener {
        private final HazelcastInstance hazelcast;

        DepartedDonorCleaner(HazelcastInstance hazelcast) {
            this.hazelcast = hazelcast;
        }

        @Override
        public void memberAdded(MembershipEvent event) {
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
            try {
                DonorDirectory.loads(hazelcast).removeAsync(event.getMember().getUuid());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not remove departed donor's load: " + e);
            }
        }
    }
}
