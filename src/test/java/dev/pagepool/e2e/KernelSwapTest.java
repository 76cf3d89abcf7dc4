package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.e2e.kernel.Guest;
import dev.pagepool.e2e.kernel.Guest.Mode;
import dev.pagepool.e2e.kernel.Guest.Outcome;
import dev.pagepool.e2e.kernel.GuestImage;
import dev.pagepool.e2e.kernel.Nbdkit;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Linux kernel swaps on pooled RAM: a small guest under QEMU (TCG, no KVM needed) whose only swap device
 * is the agent's NBD export, with 2 copies of each page on 3 donors, runs a program that maps about 2.5x its RAM
 * and checks every page it gets back, while donors are killed, frozen and squeezed under it. A negative control
 * (an export that corrupts reads) and an I/O error control prove the same harness reports what it must.
 *
 * <p>Each test is one boot of a few minutes; they run in their own Surefire execution ({@code kernel} tag, in
 * the {@code integration-test} phase), so {@code ./mvnw test} runs the fast tests alone and {@code ./mvnw verify}
 * runs these too. The guest console and the agent's log of every test are kept in
 * {@code e2e/target/kernel-swap/}.
 */
@Tag("kernel")
class KernelSwapTest {
    /**
     * The guest program's run time is bounded: a swap path that stalls for minutes must fail, not pass slowly. On
     * an idle machine a plain run took 73 s with QEMU's NBD client and 233 s with the guest kernel's own (whose
     * traffic also crosses the emulated network); on one at load 12-19 the first took 172 s (BENCHMARKS.md). Each
     * bound is about 4x the idle figure.
     */
    private static final long PROGRAM_SECONDS = 300;
    private static final long KERNEL_CLIENT_PROGRAM_SECONDS = 900;
    /** Each test: the program's bound plus starting the donors and the agent, booting and powering off. */
    private static final long TEST_SECONDS = PROGRAM_SECONDS + 120;
    private static final long KERNEL_CLIENT_TEST_SECONDS = KERNEL_CLIENT_PROGRAM_SECONDS + 120;
    /** How long to wait for the guest to power off; each test's own timeout is the tighter bound. */
    private static final Duration RUN = Duration.ofSeconds(KERNEL_CLIENT_TEST_SECONDS);
    private static final Duration SWAPPING = Duration.ofMinutes(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static GuestImage image;

    @BeforeAll
    static void buildGuest() throws Exception {
        image = GuestImage.build();
    }

    @AfterAll
    static void deleteGuest() throws IOException {
        if (image != null) {
            image.close();
        }
    }

    /** 3 donors, an agent with 2 copies of each page on them, as an operator runs it (Hazelcast discovery). */
    private static AgentProcess agent(DonorCluster cluster, Path dir) throws Exception {
        return AgentProcess.start(List.of("--members", cluster.members, "--cluster-name", cluster.name, "--size", "1g",
            "--disk", dir.resolve("swap.img").toString(), "--replicas", "2"));
    }

    private static DonorCluster donors(String name) {
        return DonorCluster.start(name, 3, "384m");
    }

    @Test
    @Timeout(TEST_SECONDS)
    void theKernelSwapsHundredsOfMegabytesOutAndBackIntact(@TempDir Path dir, TestInfo test) throws Exception {
        try (DonorCluster cluster = donors("kswap-plain"); AgentProcess agent = agent(cluster, dir);
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, agent.port, "pagepool", Guest.Options.standard())) {
            Outcome o = finish(test, guest, agent, cluster);
            assertClean(o, agent);
            assertTrue(o.pswpout() * 4096L > 200L << 20, "the kernel swapped out several hundred MiB: " + o.summary());
            assertTrue(o.pswpin() * 4096L > 200L << 20, "and swapped them back in: " + o.summary());
        }
    }

    @Test
    @Timeout(TEST_SECONDS)
    void aDonorKilledWhileTheKernelSwapsCostsNoPageAndNoIoError(@TempDir Path dir, TestInfo test) throws Exception {
        try (DonorCluster cluster = donors("kswap-kill"); AgentProcess agent = agent(cluster, dir);
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, agent.port, "pagepool", Guest.Options.standard())) {
            DonorProcess victim = cluster.donor(1);
            guest.awaitLine("PASS 0 ", SWAPPING); // the fill is done; the kernel now swaps in and out
            Thread.sleep(3000);
            long held = stat(victim, "pages");
            victim.kill();
            assertFalse(guest.console().contains("RESULT"), "the donor died while the program was running");
            System.out.printf("[%s] killed %s holding %d pages%n", test.getDisplayName(), victim, held);
            assertTrue(held > 1000, "the victim held pages of the guest when it died: " + held);
            Outcome o = finish(test, guest, agent, cluster);
            assertFalse(victim.isAlive());
            assertClean(o, agent);
            assertTrue(agent.output().contains("donor " + victim.settings().name() + " out of service"),
                "the agent noticed the dead donor\n" + tail(agent.output(), 40));
        }
    }

    @Test
    @Timeout(TEST_SECONDS)
    void aDonorFrozenLongerThanTheRequestTimeoutCostsNoPage(@TempDir Path dir, TestInfo test) throws Exception {
        try (DonorCluster cluster = donors("kswap-freeze"); AgentProcess agent = agent(cluster, dir);
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, agent.port, "pagepool", Guest.Options.standard())) {
            DonorProcess frozen = cluster.donor(2);
            guest.awaitLine("PASS 0 ", SWAPPING);
            Thread.sleep(2000);
            frozen.signal("STOP");
            try {
                Thread.sleep(6000); // three times the client's 2 s request timeout
            } finally {
                frozen.signal("CONT");
            }
            assertFalse(guest.console().contains("RESULT"), "the donor was frozen while the program was running");
            Outcome o = finish(test, guest, agent, cluster);
            assertClean(o, agent);
            String name = frozen.settings().name();
            assertTrue(agent.output().contains("donor " + name + " suspect")
                    || agent.output().contains("donor " + name + " out of service"),
                "the freeze outlasted the request timeout: the agent noticed it\n" + tail(agent.output(), 40));
        }
    }

    @Test
    @Timeout(TEST_SECONDS)
    void theAgentKilledWhileTheKernelSwapsIsStartedAgainAndNoPageIsLost(@TempDir Path dir, TestInfo test)
        throws Exception {
        restartBehindTheGuest(dir, test, "kswap-agent-kill", true, Mode.QEMU_NBD);
    }

    @Test
    @Timeout(TEST_SECONDS)
    void theAgentUpgradedWhileTheKernelSwapsServesEveryPageOn(@TempDir Path dir, TestInfo test) throws Exception {
        restartBehindTheGuest(dir, test, "kswap-agent-upgrade", false, Mode.QEMU_NBD);
    }

    /**
     * The agent dies ({@code kill -9}) or is stopped for an upgrade (SIGTERM) while the guest swaps, and is
     * started again with the same arguments; QEMU's NBD client reconnects and re-sends what was in flight. The
     * guest's program then verifies every page it wrote. Prints the restart time: from the end of the old agent
     * to the new one serving, and to its first read.
     */
    private void restartBehindTheGuest(Path dir, TestInfo test, String name, boolean kill, Mode mode) throws Exception {
        try (DonorCluster cluster = donors(name)) {
            AgentProcess first = agent(cluster, dir);
            AgentProcess second = null;
            try (Guest guest = Guest.boot(image, mode, first.port, "pagepool", Guest.Options.standard().reconnecting(60))) {
                guest.awaitLine("PASS 0 ", SWAPPING);
                Thread.sleep(3000);
                long before = readsServed(first);
                long t0 = System.nanoTime();
                if (kill) {
                    first.kill();
                } else {
                    assertEquals(143, first.stop(), first.output());
                    assertTrue(first.output().contains("are kept for the next agent"), tail(first.output(), 20));
                }
                assertTrue(before > 0, "the guest was reading from the export when its agent went");
                assertFalse(guest.console().contains("RESULT"), "the agent went while the program was running");
                long ended = System.nanoTime();
                second = first.again();
                long serving = System.nanoTime();
                while (readsServed(second) == 0) {
                    assertTrue(System.nanoTime() - serving < TimeUnit.SECONDS.toNanos(120), "the guest reads again");
                    Thread.sleep(20);
                }
                long firstRead = System.nanoTime();
                System.out.printf("[%s] agent %s: %d ms from its end to the new one serving, %d ms to its first read"
                        + " (%d ms since the %s)%n", test.getDisplayName(), kill ? "killed" : "upgraded",
                    (serving - ended) / 1_000_000, (firstRead - ended) / 1_000_000, (firstRead - t0) / 1_000_000,
                    kill ? "kill" : "SIGTERM");
                assertTrue(second.output().contains("resumed the export"), second.output());
                Outcome o = finish(test, guest, second, cluster);
                assertClean(o, second, mode == Mode.KERNEL_NBD ? KERNEL_CLIENT_PROGRAM_SECONDS : PROGRAM_SECONDS);
            } finally {
                first.close();
                if (second != null) {
                    second.close();
                }
            }
        }
    }

    /** Bytes the agent served to NBD reads so far, from its metrics. */
    private static long readsServed(AgentProcess agent) throws Exception {
        PrometheusText m = PrometheusText.scrape("http://127.0.0.1:" + agent.httpPort + "/q/metrics");
        Map<String, String> reads = Map.of("command", "read");
        return m.has("pagepool_agent_nbd_bytes_total", reads) ? (long) m.value("pagepool_agent_nbd_bytes_total", reads) : 0;
    }

    @Test
    @Timeout(TEST_SECONDS)
    void everyDonorSqueezedWhileTheKernelRewritesHandsPagesBackAndLosesNone(@TempDir Path dir, TestInfo test)
        throws Exception {
        try (DonorCluster cluster = donors("kswap-squeeze"); AgentProcess agent = agent(cluster, dir);
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, agent.port, "pagepool", Guest.Options.standard())) {
            guest.awaitLine("PASS 0 ", SWAPPING);
            // Every donor down to 1/16 of its budget, while the program's rewrite passes run: pages are rejected
            // (to the agent's disk) and handed back to it in the middle of the kernel's rewrites of them.
            for (int i = 0; i < 3; i++) {
                assertEquals(200, Donors.http(cluster.donor(i), "PUT", "/admin/capacity", "",
                    "{\"bytes\": " + (24L << 20) + "}").statusCode());
            }
            assertFalse(guest.console().contains("RESULT"), "the donors were squeezed while the program was running");
            Outcome o = finish(test, guest, agent, cluster);
            assertClean(o, agent);
            long handedBack = 0;
            for (int i = 0; i < 3; i++) {
                handedBack += stat(cluster.donor(i), "handed_back");
            }
            System.out.printf("[%s] the donors handed back %d pages%n", test.getDisplayName(), handedBack);
            assertTrue(handedBack > 0, "the donors handed pages back to the agent");
        }
    }

    @Test
    @Timeout(KERNEL_CLIENT_TEST_SECONDS)
    void theGuestKernelsOwnNbdClientSwapsAsTheReadmeSays(@TempDir Path dir, TestInfo test) throws Exception {
        try (DonorCluster cluster = donors("kswap-nbd"); AgentProcess agent = agent(cluster, dir);
             Guest guest = Guest.boot(image, Mode.KERNEL_NBD, agent.port, "pagepool", Guest.Options.standard())) {
            Outcome o = finish(test, guest, agent, cluster);
            assertTrue(o.console().contains("SWAP /dev/nbd0"), "the guest swapped on its own nbd device:\n" + o.evidence());
            assertClean(o, agent, KERNEL_CLIENT_PROGRAM_SECONDS);
            assertTrue(o.pswpout() * 4096L > 200L << 20, "the kernel swapped out several hundred MiB: " + o.summary());
        }
    }

    /** The harness can fail: an export that flips a byte in some reads must be reported as mismatches. */
    @Test
    @Timeout(TEST_SECONDS)
    void negativeControlAnExportThatCorruptsReadsIsReported(@TempDir Path dir, TestInfo test) throws Exception {
        try (Nbdkit nbdkit = Nbdkit.corrupting(dir, 50);
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, nbdkit.port, "", Guest.Options.standard().onePass())) {
            Outcome o = finish(test, guest, null, null);
            assertTrue(o.result() != null && o.result().startsWith("RESULT MISMATCH"), o.evidence());
            assertTrue(o.mismatches() > 0, o.evidence());
            assertEquals(1, o.exit(), "the program exits 1 on a mismatch:\n" + o.evidence());
            assertFalse(o.clean(), o.evidence());
        }
    }

    /** The I/O error checks can fail too: an export whose reads sometimes fail with EIO is reported. */
    @Test
    @Timeout(TEST_SECONDS)
    void negativeControlAnExportThatFailsReadsIsReported(@TempDir Path dir, TestInfo test) throws Exception {
        try (Nbdkit nbdkit = Nbdkit.failingReads(dir, "0.2%");
             Guest guest = Guest.boot(image, Mode.QEMU_NBD, nbdkit.port, "", Guest.Options.standard().onePass())) {
            guest.awaitLine("PASS 0 ", SWAPPING); // swapon has read the header; from now on some reads fail
            nbdkit.startFailing();
            Outcome o = finish(test, guest, null, null);
            assertTrue(o.kernelErrors() > 0, "the guest's kernel logged the failed reads:\n" + o.evidence());
            assertFalse(o.clean(), o.evidence());
        }
    }

    private static void assertClean(Outcome o, AgentProcess agent) {
        assertClean(o, agent, PROGRAM_SECONDS);
    }

    private static void assertClean(Outcome o, AgentProcess agent, long programSeconds) {
        assertTrue(o.clean(), "every page read back as written and the guest saw no I/O error:\n" + o.evidence()
            + "\nagent log (tail):\n" + tail(agent.output(), 60));
        assertTrue(o.programSeconds() <= programSeconds, "the program ran within " + programSeconds + " s: "
            + o.summary());
    }

    /** Waits for the guest to power off; keeps its console and the agent's and donors' logs; prints the summary. */
    private static Outcome finish(TestInfo test, Guest guest, AgentProcess agent, DonorCluster cluster) throws Exception {
        Outcome o;
        try {
            o = guest.await(RUN);
        } finally {
            keep(test, guest, agent, cluster);
        }
        System.out.printf("[%s] %s%n", test.getDisplayName(), o.summary());
        return o;
    }

    private static void keep(TestInfo test, Guest guest, AgentProcess agent, DonorCluster cluster) throws IOException {
        Path root = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();
        String name = test.getTestMethod().map(m -> m.getName()).orElse("test");
        Path out = root.resolve("e2e/target/kernel-swap/" + name);
        Files.createDirectories(out);
        Files.copy(guest.consoleFile(), out.resolve("guest-console.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (agent != null) {
            Files.writeString(out.resolve("agent.log"), agent.output());
        }
        if (cluster != null) {
            for (int i = 0; i < 3; i++) {
                Path log = cluster.donor(i).log();
                if (Files.isRegularFile(log)) {
                    Files.copy(log, out.resolve("donor-" + i + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static long stat(DonorProcess donor, String key) throws Exception {
        return JSON.readTree(Donors.http(donor, "GET", "/admin/stats", "", null).body()).get(key).asLong();
    }

    private static String tail(String text, int lines) {
        List<String> all = new ArrayList<>(List.of(text.split("\n")));
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}
