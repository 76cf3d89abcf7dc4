package dev.pagepool.discovery;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.cluster.InitialMembershipEvent;
import com.hazelcast.cluster.InitialMembershipListener;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.core.LifecycleListener;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The donors of the cluster as a consumer (agent, bench, a donor's own tools) sees them: who they are, where
 * their data port is, how full they are, with callbacks when one joins or leaves.
 *
 * <p>{@link #connect} watches through a Hazelcast <em>client</em>, not a lite member: a client only opens
 * outbound connections, is invisible to the members' failure detection and partition table, and so an agent
 * that stalls, dies or sits behind NAT never disturbs the donors; it reconnects by itself after losing the
 * cluster. A view can also be laid over a member already running in the process ({@link #of}).
 *
 * <p>Everything is kept locally from events (membership events, entry events of {@value DonorDirectory#LOAD_MAP}),
 * so {@link #donors()} never makes a remote call and is cheap enough for every placement decision.
 */
public final class ClusterView implements AutoCloseable {
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(15);
    private volatile boolean closing;
    private static final System.Logger LOG = System.getLogger(ClusterView.class.getName());

    private final HazelcastInstance hazelcast;
    private final boolean ownsInstance;
    private final Map<UUID, DonorEndpoint> endpoints = new ConcurrentHashMap<>();
    private final Map<UUID, DonorLoad> loads = new ConcurrentHashMap<>();
    private final List<DonorListener> listeners = new CopyOnWriteArrayList<>();
    private final LoadBounds loadBounds = new LoadBounds(System::currentTimeMillis);
    private volatile boolean connected = true;
    private UUID membershipRegistration;
    private UUID loadRegistration;
    private UUID lifecycleRegistration;

    private ClusterView(HazelcastInstance hazelcast, boolean ownsInstance) {
        this.hazelcast = hazelcast;
        this.ownsInstance = ownsInstance;
    }

    /**
     * Connects a client to the cluster {@code clusterName} through any of {@code addresses} ({@code host:port} of
     * Hazelcast members, not data ports) and waits until the member list is known.
     *
     * @throws ClusterUnavailableException when no member answered within {@code startupTimeout}
     */
    public static ClusterView connect(String clusterName, List<String> addresses, Duration startupTimeout) {
        ClientConfig config = ClientConfigFactory.create(clusterName, addresses);
        CountDownLatch connectedLatch = new CountDownLatch(1);
        config.addListenerConfig(new ListenerConfig((LifecycleListener) event -> {
            if (event.getState() == LifecycleEvent.LifecycleState.CLIENT_CONNECTED) {
                connectedLatch.countDown();
            }
        }));
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        HazelcastInstance client = HazelcastClient.newHazelcastClient(config);
        try {
            awaitConnected(client, connectedLatch, deadline);
        } catch (ClusterUnavailableException e) {
            client.shutdown();
            throw new ClusterUnavailableException("no member of pagepool cluster '" + clusterName + "' answered at "
                + addresses + " within " + startupTimeout.toMillis() + " ms (" + e.getMessage() + "): check that donors "
                + "are running, that these are their Hazelcast addresses (pagepool.cluster.port, default 5701; not data "
                + "ports), and that they use the same cluster name (pagepool.cluster.name)");
        } catch (RuntimeException e) {
            client.shutdown();
            throw e;
        }
        ClusterView view = new ClusterView(client, true);
        view.watch();
        return view;
    }

    /** Like {@link #connect(String, List, Duration)}, with the addresses a donor with {@code settings} joins. */
    public static ClusterView connect(ClusterSettings settings, Duration startupTimeout) {
        List<String> addresses = settings.kubernetes()
            ? List.of(settings.kubernetesServiceDns() + ":" + settings.port())
            : settings.members();
        return connect(settings.clusterName(), addresses, startupTimeout);
    }

    /** A view over a member or client the caller already runs and keeps owning ({@link #close()} leaves it running). */
    public static ClusterView of(HazelcastInstance hazelcast) {
        ClusterView view = new ClusterView(hazelcast, false);
        view.watch();
        return view;
    }

    private static void awaitConnected(HazelcastInstance client, CountDownLatch latch, long deadline) {
        try {
            if (!latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new ClusterUnavailableException("timeout");
            }
            // The member list arrives right after authentication; wait for it within the same deadline.
            while (client.getCluster().getMembers().isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new ClusterUnavailableException("timeout");
                }
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterUnavailableException("interrupted");
        }
    }

    private void watch() {
        lifecycleRegistration = hazelcast.getLifecycleService().addLifecycleListener(this::lifecycleChanged);
        loadRegistration = DonorDirectory.loads(hazelcast).addEntryListener(new LoadEvents(), true);
        membershipRegistration = hazelcast.getCluster().addMembershipListener(new MembershipEvents());
        refreshLoads();
    }

    /** The donors now in the cluster, ordered by name; a local snapshot. */
    public List<DonorInfo> donors() {
        return DonorDirectory.donors(hazelcast.getCluster().getMembers().stream()
            .filter(m -> endpoints.containsKey(m.getUuid())).toList(), loads);
    }

    public Optional<DonorInfo> donor(UUID memberUuid) {
        DonorEndpoint endpoint = endpoints.get(memberUuid);
        return endpoint == null ? Optional.empty() : Optional.of(info(memberUuid, endpoint));
    }

    /** Registers {@code listener} and replays every current donor to it as added, so that none is missed. */
    public void addListener(DonorListener listener) {
        listeners.add(listener);
        endpoints.forEach((uuid, endpoint) -> safely(() -> listener.donorAdded(info(uuid, endpoint))));
    }

    public void removeListener(DonorListener listener) {
        listeners.remove(listener);
    }

    /** False while a client view has lost every connection to the cluster (it keeps retrying). */
    public boolean connected() {
        return connected && hazelcast.getLifecycleService().isRunning();
    }

    /** Loads published for a donor that were ignored as implausible: dated in the future ({@link LoadBounds}). */
    public long ignoredLoads() {
        return loadBounds.ignored();
    }

    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    @Override
    public void close() {
        closing = true;
        listeners.clear();
        if (ownsInstance) {
            hazelcast.shutdown();
            return;
        }
        if (hazelcast.getLifecycleService().isRunning()) {
            try {
                hazelcast.getCluster().removeMembershipListener(membershipRegistration);
                DonorDirectory.loads(hazelcast).removeEntryListener(loadRegistration);
                hazelcast.getLifecycleService().removeLifecycleListener(lifecycleRegistration);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not unregister cluster view listeners: " + e);
            }
        }
    }

    private DonorInfo info(UUID uuid, DonorEndpoint endpoint) {
        return DonorInfo.of(uuid, endpoint, loads.getOrDefault(uuid, DonorLoad.UNKNOWN));
    }

    private void refreshLoads() {
        try {
            DonorDirectory.loads(hazelcast).forEach((uuid, load) -> {
                if (loadBounds.admit(uuid, load)) {
                    loads.merge(uuid, load, ClusterView::newer);
                }
            });
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "could not read donor loads: " + e);
        }
    }

    private void lifecycleChanged(LifecycleEvent event) {
        switch (event.getState()) {
            case CLIENT_DISCONNECTED -> {
                connected = false;
                if (closing) {
                    return;
                }
                LOG.log(System.Logger.Level.WARNING, "lost every connection to the pagepool cluster; retrying");
            }
            case CLIENT_CONNECTED, CLIENT_CHANGED_CLUSTER -> {
                connected = true;
                // Events were missed while away; re-read off the event thread (the read is a remote call).
                CompletableFuture.runAsync(this::refreshLoads);
            }
            default -> {
            }
        }
    }

    private static DonorLoad newer(DonorLoad a, DonorLoad b) {
        return b.updatedAtMillis() >= a.updatedAtMillis() ? b : a;
    }

    private void added(Member member) {
        DonorEndpoint.of(member).ifPresent(endpoint -> {
            if (endpoints.put(member.getUuid(), endpoint) == null) {
                DonorInfo info = info(member.getUuid(), endpoint);
                LOG.log(System.Logger.Level.INFO, "donor joined: " + info.name() + " " + info.dataAddress());
                listeners.forEach(l -> safely(() -> l.donorAdded(info)));
            }
        });
    }

    private void removed(Member member) {
        DonorEndpoint endpoint = endpoints.remove(member.getUuid());
        DonorLoad last = loads.remove(member.getUuid());
        loadBounds.forget(member.getUuid());
        if (endpoint != null) {
            DonorInfo info = DonorInfo.of(member.getUuid(), endpoint, last == null ? DonorLoad.UNKNOWN : last);
            LOG.log(System.Logger.Level.INFO, "donor left: " + info.name() + " " + info.dataAddress());
            listeners.forEach(l -> safely(() -> l.donorRemoved(info)));
        }
    }

    private static void safely(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "donor listener failed", e);
        }
    }

    private final class MembershipEvents implements InitialMembershipListener {
        @Override
        public void init(InitialMembershipEvent event) {
            event.getMembers().forEach(ClusterView.this::added);
        }

        @Override
        public void memberAdded(MembershipEvent event) {
            added(event.getMember());
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
            removed(event.getMember());
        }
    }

    private final class LoadEvents implements EntryAddedListener<UUID, DonorLoad>, EntryUpdatedListener<UUID, DonorLoad>,
        EntryRemovedListener<UUID, DonorLoad>, EntryExpiredListener<UUID, DonorLoad>, EntryEvictedListener<UUID, DonorLoad> {

        @Override
        public void entryAdded(EntryEvent<UUID, DonorLoad> event) {
            changed(event);
        }

        @Override
        public void entryUpdated(EntryEvent<UUID, DonorLoad> event) {
            changed(event);
        }

        @Override
        public void entryRemoved(EntryEvent<UUID, DonorLoad> event) {
            loads.remove(event.getKey());
        }

        @Override
        public void entryExpired(EntryEvent<UUID, DonorLoad> event) {
            loads.remove(event.getKey());
        }

        @Override
        public void entryEvicted(EntryEvent<UUID, DonorLoad> event) {
            loads.remove(event.getKey());
        }

        private void changed(EntryEvent<UUID, DonorLoad> event) {
            UUID uuid = event.getKey();
            if (!loadBounds.admit(uuid, event.getValue())) {
                return;
            }
            loads.merge(uuid, event.getValue(), ClusterView::newer);
            DonorEndpoint endpoint = endpoints.get(uuid);
            if (endpoint != null && !listeners.isEmpty()) {
                DonorInfo info = info(uuid, endpoint);
                listeners.forEach(l -> safely(() -> l.loadChanged(info)));
            }
        }
    }
}
