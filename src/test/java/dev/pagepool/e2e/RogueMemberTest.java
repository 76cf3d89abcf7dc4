package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.cluster.ClusterFollower;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorEndpoint;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorLoad;
import dev.pagepool.discovery.DonorMember;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A second, real Hazelcast member on loopback that advertises a real donor's data address (with a load dated an
 * hour ahead) and then leaves: anyone who reaches the member port can do this, since Hazelcast's open-source
 * membership has no authentication. The agent keeps the donor in service with every page.
 */
class RogueMemberTest {
    private static final String TOKEN = "rogue-member-e2e-token-0123456789abcdef";
    private static final int PAGES = 64;

    @Test
    @Timeout(120)
    void aMemberThatAdvertisesARealDonorsAddressAndLeavesMakesNoAgentDropIt() throws Exception {
        int hzDonor = DonorProcess.freePort();
        int hzRogue = DonorProcess.freePort();
        List<String> members = List.of("127.0.0.1:" + hzDonor, "127.0.0.1:" + hzRogue);
        String cluster = "rogue-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        DonorSettings real = DonorSettings.defaults("real").withToken(TOKEN).withCapacity("64m")
            .withCluster(String.join(",", members), hzDonor).with("pagepool.cluster.name", cluster);
        try (DonorProcess donor = Donors.start(real);
             ClusterView view = ClusterView.connect(cluster, members, ClusterView.DEFAULT_STARTUP_TIMEOUT);
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN))) {
            ClusterFollower.follow(client, view);
            await(() -> view.donors().size() == 1, "the real donor in the view");
            DonorInfo advertised = view.donors().get(0);
            PoolRef pool = client.newPool(PoolSpec.privatePool(true));
            byte[][] pages = new byte[PAGES][Frame.PAGE_BYTES];
            Random random = new Random(30);
            for (int i = 0; i < PAGES; i++) {
                random.nextBytes(pages[i]);
                assertEquals(PageStatus.OK, client.put(pool, i, 0, pages[i]));
            }

            try (DonorMember rogue = DonorMember.start(ClusterSettings.tcpIp(cluster, members, hzRogue),
                     new DonorEndpoint("rogue", advertised.host(), advertised.dataPort(), 0),
                     () -> new DonorLoad(1L << 40, 0, DonorLoad.PRESSURE_NONE, 0,
                         System.currentTimeMillis() + Duration.ofHours(1).toMillis()))) {
                await(() -> view.donors().size() == 2, "the rogue in the view");
                await(() -> view.ignoredLoads() > 0, "the rogue's load from the future ignored");
            }
            await(() -> view.donors().size() == 1, "the rogue left");
            await(() -> client.counters().membershipEventsIgnored() > 0, "its departure ignored");

            assertEquals(0, client.counters().donorsSuspect(), "the real donor was not even suspect");
            assertEquals(0, client.counters().donorsDown(), "not taken out of service");
            assertEquals(0, client.counters().extentsLost());
            assertEquals(1, client.knownDonors());
            assertTrue(client.donorUp(0), "still in service");
            byte[] got = new byte[Frame.PAGE_BYTES];
            for (int i = 0; i < PAGES; i++) {
                assertEquals(PageStatus.OK, client.get(pool, i, 0, false, got), "page " + i);
                assertArrayEquals(pages[i], got, "page " + i);
            }
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(50);
        }
    }
}
