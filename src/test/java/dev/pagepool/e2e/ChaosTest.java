package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.cluster.ClusterFollower;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PoolRef;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three donors in a Hazelcast cluster on 127.0.0.1 and a verified workload of persistent (2 copies) and
 * ephemeral pages, while one donor is killed, frozen, or killed and restarted. Every acknowledged persistent page
 * must read back byte for byte; ephemeral reads hit with the right bytes or miss; nothing stale, nothing lost.
 */
class ChaosTest {
    private static final String TOKEN = "";
    private static final int PAGES = 6144; // 24 MiB of persistent pages, 48 MiB with both copies
    private static final Duration REPAIR_TIMEOUT = Duration.ofSeconds(60);

    private record Rig(DonorCluster cluster, ClusterView view, PagePoolClient client, VerifiedWorkload load)
        implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            view.close();
            cluster.close();
        }
    }

    private static Rig rig(String name) {
        DonorCluster cluster = DonorCluster.start(name, 3, "96m");
        ClusterView view = null;
        PagePoolClient client = null;
        try {
            view = ClusterView.connect(cluster.name, cluster.memberList(), ClusterView.DEFAULT_STARTUP_TIMEOUT);
            client = PagePoolClient.connect(ClientConfig.of(cluster.dataAddresses(), TOKEN));
            ClusterFollower.follow(client, view);
            PoolRef persistent = client.newPool(PoolSpec.privatePool(true));
            assertEquals(2, persistent.replicas(), "a persistent pool on 3 donors keeps 2 copies");
            PoolRef ephemeral = client.newPool(PoolSpec.privatePool(false));
            VerifiedWorkload load = new VerifiedWorkload(client, persistent, ephemeral, 7, PAGES);
            load.fill();
            return new Rig(cluster, view, client, load);
        } catch (RuntimeException | Error e) {
            if (client != null) {
                client.close();
            }
            if (view != null) {
                view.close();
            }
            cluster.close();
            throw e;
        }
    }

    @Test
    @Timeout(240)
    void killNineOfADonorLosesNoAcknowledgedPage() {
        try (Rig rig = rig("chaos-kill")) {
            rig.load().run(1000, 200);
            rig.load().resetLatencies();
            long killedAt = System.nanoTime();
            rig.cluster().donor(1).kill();
            int rounds = rig.load().run(6000, 2000);
            report("kill -9", rig.load().latencyMicros(), rounds, killedAt);
            assertClean(rig.load(), "right after the kill");
            awaitTrue(() -> rig.client().underReplicatedExtents() == 0, REPAIR_TIMEOUT, "every extent has 2 copies again");
            assertClean(rig.load(), "after re-replication");
            assertTrue(rig.client().counters().pagesReReplicated() > 0, "pages were copied from the survivors");
            assertEquals(0, rig.client().counters().pagesLost());
            System.out.println("[chaos] re-replicated " + rig.client().counters().bytesReReplicated() / (1 << 20) + " MiB");
        }
    }

    @Test
    @Timeout(240)
    void frozenDonorIsBypassedAndServesNothingStaleWhenItWakes() {
        try (Rig rig = rig("chaos-freeze")) {
            rig.load().run(1000, 200);
            rig.load().resetLatencies();
            long frozenAt = System.nanoTime();
            rig.cluster().donor(2).signal("STOP");
            // Longer than the client's request timeout (2 s) and Hazelcast's failure detection (5 s).
            int rounds = rig.load().run(8000, 3000);
            report("SIGSTOP", rig.load().latencyMicros(), rounds, frozenAt);
            assertClean(rig.load(), "while the donor is frozen");
            rig.cluster().donor(2).signal("CONT");
            awaitTrue(() -> rig.client().donorUp(2), REPAIR_TIMEOUT, "the resumed donor is readmitted");
            awaitTrue(() -> rig.client().underReplicatedExtents() == 0, REPAIR_TIMEOUT, "every extent has 2 copies again");
            // Pages rewritten during the freeze now also land on, and are read from, the resumed donor.
            rig.load().run(3000, 1000);
            assertClean(rig.load(), "after the donor resumed");
            // Its member was declared dead meanwhile, which only makes it suspect: woken within the stall bound, it
            // comes back with its copies (reattached); woken later, it comes back wiped (readmitted).
            assertTrue(rig.client().counters().donorsReadmitted() + rig.client().counters().donorsReattached() >= 1,
                "the resumed donor came back into service");
        }
    }

    @Test
    @Timeout(300)
    void restartedDonorRejoinsAndTheReplicaCountIsRestored() throws Exception {
        try (Rig rig = rig("chaos-restart")) {
            rig.load().run(1000, 200);
            rig.cluster().donor(0).kill();
            rig.load().run(3000, 1000);
            rig.cluster().restart(0);
            awaitTrue(() -> rig.client().donorUp(0), REPAIR_TIMEOUT, "the restarted donor is admitted");
            awaitTrue(() -> rig.client().underReplicatedExtents() == 0, REPAIR_TIMEOUT, "every extent has 2 copies again");
            // New extents go to the donor with most free memory: the one that came back empty.
            VerifiedWorkload fresh = new VerifiedWorkload(rig.client(), rig.client().newPool(PoolSpec.privatePool(true)),
                null, 8, 2048);
            fresh.fill();
            assertTrue(rig.client().stats(0).get("pages") > 0, "the rejoined donor receives new pages");
            assertClean(fresh, 2048, "new pages");
            assertClean(rig.load(), "after the restart");
        }
    }

    private static void assertClean(VerifiedWorkload load, String when) {
        assertClean(load, PAGES, when);
    }

    /**
     * Every page reads back as last acknowledged, and every put was acknowledged: each donor's budget holds the
     * whole workload with room to spare even after one donor is gone, and a put that meets a dead or frozen donor
     * is placed again on the survivors, so a rejected put here means the failover path gave up on it.
     */
    private static void assertClean(VerifiedWorkload load, int pages, String when) {
        VerifiedWorkload.Check c = load.verifyAll();
        System.out.println("[chaos] " + when + ": " + c + " rejected=" + load.rejected());
        assertEquals(0, c.wrong(), "pages with wrong bytes " + when + ": " + c);
        assertEquals(0, c.missing(), "acknowledged pages missing " + when + ": " + c);
        assertEquals(0, c.lost(), "acknowledged pages lost " + when + ": " + c);
        assertEquals(0, load.rejected(), "persistent puts rejected up to " + when + ": " + c);
        assertEquals(pages, c.ok(), "every page was acknowledged and read back " + when + ": " + c);
    }

    private static void report(String fault, Histogram h, int rounds, long faultAt) {
        System.out.printf("[chaos] %s: %d rounds after the fault; batch latency p50 %d us, p99 %d us, max %d us%n",
            fault, rounds, h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getMaxValue());
    }

    private static void awaitTrue(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }
}
