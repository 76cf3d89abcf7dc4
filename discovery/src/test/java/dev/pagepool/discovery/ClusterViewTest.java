package dev.pagepool.discovery;

import static dev.pagepool.discovery.TestCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real embedded members on 127.0.0.1, watched through a real Hazelcast client. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterViewTest {
    private static final Duration STARTUP = Duration.ofSeconds(15);

    private TestCluster cluster;
    private ClusterView view;

    @AfterEach
    void tearDown() {
        if (view != null) {
            view.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void membersFormOneClusterAndTheViewSeesEveryDonorWithItsLoad() {
        cluster = new TestCluster(3);
        cluster.startAll();
        await(STARTUP, "3 members", () -> cluster.members.stream().allMatch(m -> m.clusterSize() == 3));

        view = ClusterView.connect(cluster.name, cluster.addresses, STARTUP);
        await(STARTUP, "3 donors with loads", () -> view.donors().size() == 3
            && view.donors().stream().allMatch(DonorInfo::loadKnown));

        List<DonorInfo> donors = view.donors();
        for (int i = 0; i < 3; i++) {
            DonorInfo donor = donors.get(i);
            DonorLoad published = cluster.loads.get(i).get();
            assertEquals("donor-" + i, donor.name());
            assertEquals(cluster.members.get(i).uuid(), donor.memberUuid());
            assertEquals("127.0.0.1", donor.host());
            assertEquals(7410 + i, donor.dataPort());
            assertEquals(8080 + i, donor.httpPort());
            assertEquals(published.capacityBytes(), donor.capacityBytes());
            assertEquals(published.usedBytes(), donor.usedBytes());
            assertEquals("127.0.0.1:" + (7410 + i), donor.dataAddress());
        }

        // A new sample reaches the view within a few publication periods.
        cluster.loads.get(1).set(DonorLoad.now(2_000_000, 1_500_000, 2, 42));
        UUID second = cluster.members.get(1).uuid();
        await(Duration.ofSeconds(5), "updated load", () -> view.donor(second)
            .filter(d -> d.usedBytes() == 1_500_000 && d.pressureLevel() == 2).isPresent());
    }

    @Test
    void gracefulLeaveRemovesTheDonorAndItsLoad() throws Exception {
        cluster = new TestCluster(2);
        cluster.startAll();
        view = ClusterView.connect(cluster.name, cluster.addresses, STARTUP);
        await(STARTUP, "2 donors", () -> view.donors().size() == 2);
        BlockingQueue<DonorInfo> removed = new LinkedBlockingQueue<>();
        view.addListener(new DonorListener() {
            @Override
            public void donorRemoved(DonorInfo donor) {
                removed.add(donor);
            }
        });

        DonorMember leaving = cluster.members.get(1);
        UUID uuid = leaving.uuid();
        leaving.close();

        DonorInfo gone = removed.poll(10, TimeUnit.SECONDS);
        assertEquals(uuid, gone == null ? null : gone.memberUuid(), "removal callback for the donor that left");
        assertEquals(List.of("donor-0"), view.donors().stream().map(DonorInfo::name).toList());
        await(Duration.ofSeconds(5), "load entry removed",
            () -> !DonorDirectory.loads(cluster.members.get(0).hazelcast()).containsKey(uuid));
    }

    @Test
    void terminatedMemberDisappearsWithinTheFailureTimeout() throws Exception {
        cluster = new TestCluster(3);
        cluster.startAll();
        view = ClusterView.connect(cluster.name, cluster.addresses, STARTUP);
        await(STARTUP, "3 donors", () -> view.donors().size() == 3);
        Map<UUID, Long> removedAt = new ConcurrentHashMap<>();
        view.addListener(new DonorListener() {
            @Override
            public void donorRemoved(DonorInfo donor) {
                removedAt.put(donor.memberUuid(), System.nanoTime());
            }
        });

        DonorMember victim = cluster.members.get(2);
        UUID uuid = victim.uuid();
        long killedAt = System.nanoTime();
        victim.hazelcast().getLifecycleService().terminate();

        Duration limit = ClusterSettings.DEFAULT_FAILURE_TIMEOUT.plusSeconds(3);
        await(limit, "terminated donor removed", () -> removedAt.containsKey(uuid));
        long millis = (removedAt.get(uuid) - killedAt) / 1_000_000;
        System.out.printf("terminated donor left the view after %d ms%n", millis);
        assertEquals(2, view.donors().size());
        assertFalse(view.donors().stream().anyMatch(d -> d.memberUuid().equals(uuid)));
        await(Duration.ofSeconds(5), "departed donor's load removed by a survivor",
            () -> !DonorDirectory.loads(cluster.members.get(0).hazelcast()).containsKey(uuid));
    }

    @Test
    void aDonorThatJoinsLaterIsAnnounced() throws Exception {
        cluster = new TestCluster(2);
        cluster.start(0);
        view = ClusterView.connect(cluster.name, cluster.addresses, STARTUP);
        BlockingQueue<DonorInfo> added = new LinkedBlockingQueue<>();
        view.addListener(new DonorListener() {
            @Override
            public void donorAdded(DonorInfo donor) {
                added.add(donor);
            }
        });
        assertEquals("donor-0", added.poll(5, TimeUnit.SECONDS).name(), "existing donor replayed on registration");

        cluster.start(1);
        DonorInfo joined = added.poll(10, TimeUnit.SECONDS);
        assertEquals("donor-1", joined == null ? null : joined.name());
        await(Duration.ofSeconds(5), "2 donors", () -> view.donors().size() == 2);
    }

    @Test
    void aViewOverAMemberSeesTheSameDonors() {
        cluster = new TestCluster(2);
        cluster.startAll();
        view = ClusterView.of(cluster.members.get(0).hazelcast());
        await(STARTUP, "2 donors with loads", () -> view.donors().size() == 2
            && view.donors().stream().allMatch(DonorInfo::loadKnown));
        view.close();
        view = null;
        assertTrue(cluster.members.get(0).running(), "closing a view over a member leaves the member running");
    }

    @Test
    void aLoadFromTheFutureIsIgnoredAndCountedSoItCannotPinTheDonorsLoad() {
        cluster = new TestCluster(1);
        cluster.startAll();
        view = ClusterView.of(cluster.members.get(0).hazelcast());
        UUID donor = cluster.members.get(0).uuid();
        await(STARTUP, "1 donor with a load", () -> view.donor(donor).filter(DonorInfo::loadKnown).isPresent());
        // Any client of the cluster can write the map: a load dated an hour ahead would win over every real one.
        long anHourAhead = System.currentTimeMillis() + Duration.ofHours(1).toMillis();
        DonorDirectory.loads(cluster.members.get(0).hazelcast())
            .put(donor, new DonorLoad(1L << 40, 0, DonorLoad.PRESSURE_NONE, 0, anHourAhead));
        await(Duration.ofSeconds(5), "the load counted as ignored", () -> view.ignoredLoads() == 1);
        cluster.loads.get(0).set(DonorLoad.now(2_000_000, 1_500_000, 2, 42));
        await(Duration.ofSeconds(5), "the donor's own next load", () -> view.donor(donor)
            .filter(d -> d.usedBytes() == 1_500_000).isPresent());
        assertTrue(view.donors().stream().noneMatch(d -> d.capacityBytes() == 1L << 40), "never shown");
    }

    @Test
    void aDonorBoundToEveryInterfaceIsAdvertisedAtItsMemberAddress() {
        cluster = new TestCluster(1);
        cluster.start(0, "0.0.0.0");
        view = ClusterView.connect(cluster.name, cluster.addresses, STARTUP);
        await(STARTUP, "1 donor", () -> view.donors().size() == 1);
        assertEquals("127.0.0.1:7410", view.donors().get(0).dataAddress());
    }

    @Test
    void noReachableMemberFailsWithinTheStartupTimeout() {
        int closedPort = TestCluster.freePorts(1).get(0);
        long start = System.nanoTime();
        ClusterUnavailableException e = assertThrows(ClusterUnavailableException.class,
            () -> ClusterView.connect("nobody-here", List.of("127.0.0.1:" + closedPort), Duration.ofSeconds(2)));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 6_000, "gave up after " + millis + " ms");
        assertTrue(e.getMessage().contains("nobody-here") && e.getMessage().contains("127.0.0.1:" + closedPort),
            e.getMessage());
    }
}
