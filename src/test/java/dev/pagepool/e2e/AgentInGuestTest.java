package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.e2e.kernel.AgentDisk;
import dev.pagepool.e2e.kernel.Guest;
import dev.pagepool.e2e.kernel.Guest.Outcome;
import dev.pagepool.e2e.kernel.GuestImage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;

/**
 * The agent inside the machine whose kernel swaps to it: the case the agent exists for. The guest's own
 * nbd-client puts /dev/nbd0 on the agent's Unix socket, the agent runs from a read-only disk inside the guest and
 * keeps 2 copies of each page on 3 donors on the host, and the guest's memory is small enough that the agent and
 * the test program together need twice what it has, so the kernel reclaims from everything while the agent must
 * keep serving it. It passes when the program verifies every page, the guest's kernel logged no I/O error, hung
 * task or OOM kill, and the agent locked itself in (it runs as root here, so {@code --require-locked} holds it to
 * all three protections). The guest runs with the README's settings for a host that swaps to the agent (kswapd
 * keeps a tenth of memory free, no watermark boost: see the guest's init for what the boost did).
 *
 * <p>The program runs in a cgroup of its own whose {@code memory.high} is the guest's memory less the agent's and
 * 48 MiB, as a host's workloads run in slices or pods (see the guest's init): without it, the program took every
 * page reclaim freed and the agent's sockets to the donors could not get the memory to send one.
 *
 * <p>Under TCG the agent's JVM runs on an emulated CPU, so the program maps a few hundred MiB and verifies them in
 * one pass. Both cases are in the kernel group. The plain one also holds the agent to its RSS bound, read inside the
 * guest every 5 s while it serves (docs/agent.md gives the breakdown). Consoles are kept in
 * {@code e2e/target/kernel-swap/}.
 */
class AgentInGuestTest {
    /** The export: enough swap for the program, whose pages the kernel writes where it likes. */
    private static final String SIZE = "512m";
    private static final long SIZE_BYTES = 512L << 20;
    /** The bound for the agent's RSS: 96 MiB plus 0.2% of the export it serves. */
    private static final long RSS_BOUND_KIB = (96L << 10) + SIZE_BYTES / 500 / 1024;
    /** Guest RAM: the agent takes about 100 MiB of it, locked, and the program the rest and as much again. */
    private static final int GUEST_MIB = 288;
    private static final long TEST_SECONDS = 1500;
    private static final Duration RUN = Duration.ofSeconds(TEST_SECONDS - 60);
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

    @Test
    @Tag("kernel")
    @Timeout(TEST_SECONDS)
    void theAgentServesTheKernelItRunsUnderWithinItsRssBoundAndEveryPageComesBack(TestInfo test) throws Exception {
        Outcome o = run(test, "guest-agent", 0);
        assertTrue(o.pswpout() * 4096L > 100L << 20, "the guest swapped out over 100 MiB: " + o.summary());
        long rss = maxField(o.console(), "rss_kib");
        assertTrue(rss <= RSS_BOUND_KIB, "the agent's RSS stayed within 96 MiB + 0.2% of the export ("
            + RSS_BOUND_KIB + " KiB): " + rss + " KiB\n" + o.evidence());
    }

    @Test
    @Tag("kernel")
    @Timeout(TEST_SECONDS)
    void theAgentKeepsServingWhenTheGuestIsSqueezedFurtherWhileItSwaps(TestInfo test) throws Exception {
        Outcome o = run(test, "guest-agent-squeeze", 60);
        assertTrue(o.console().contains("SQUEEZED memory.current="), "the squeeze ran while the program did\n"
            + o.evidence());
        assertTrue(!o.console().contains("SQUEEZE-FAILED"), o.evidence());
    }

    private static Outcome run(TestInfo test, String name, int squeezeAfterSeconds) throws Exception {
        try (DonorCluster cluster = DonorCluster.start(name, 3, "384m");
             AgentDisk disk = AgentDisk.build(AgentProcess.jar(), jvmOptions(), agentArgs(cluster), SIZE_BYTES + (128L << 20));
             Guest guest = Guest.bootWithAgent(image, disk, new Guest.Options(GUEST_MIB, 0, 1), squeezeAfterSeconds)) {
            Outcome o = guest.await(RUN);
            keep(test, o);
            System.out.printf("[%s] %s | agent RSS max %d KiB (bound %d), locked %d KiB%n", test.getDisplayName(),
                o.summary(), maxField(o.console(), "rss_kib"), RSS_BOUND_KIB, maxField(o.console(), "locked_kib"));
            assertTrue(o.console().contains("AGENT-READY"), "the agent started inside the guest\n" + tail(o.console()));
            assertTrue(o.clean(), "every page verified, no I/O error, hung task or OOM kill in the guest\n"
                + o.evidence() + tail(o.console()));
            assertTrue(maxField(o.console(), "rss_kib") > 0, "the agent's RSS was read inside the guest\n" + o.evidence());
            assertTrue(o.console().contains("warmed the export up:"), "the agent drove its export before publishing it");
            // With --require-locked the agent would not have started unprotected; its health says what it holds.
            assertTrue(Pattern.compile("\"host-protection\",\"status\":\"UP\",\"data\":\\{\"state\":\"PROTECTED\"")
                    .matcher(o.console()).find(),
                "the agent's health said it is locked, out of reclaim's way and not an OOM victim\n" + tail(o.console()));
            return o;
        }
    }

    private static List<String> agentArgs(DonorCluster cluster) {
        List<String> nodes = new ArrayList<>();
        for (InetSocketAddress a : cluster.dataAddresses()) {
            nodes.add(Guest.HOST + ":" + a.getPort());
        }
        return List.of("--size", SIZE, "--disk", AgentDisk.SCRATCH + "/swap.img", "--nodes", String.join(",", nodes),
            "--replicas", "2", "--state", "/run/pagepool", "--require-locked");
    }

    /** The JVM options the launcher gives an agent of this size: the agent runs as an operator would run it. */
    private static List<String> jvmOptions() throws Exception {
        List<String> o = AgentProcess.launcherOptions(List.of("--size", SIZE));
        // On the console with the rest: a safepoint that takes seconds to reach is how a stalled JVM thread shows.
        o.add("-Xlog:gc,safepoint:stderr");
        return o;
    }

    private static long maxField(String console, String key) {
        Matcher m = Pattern.compile("AGENT-RSS .*\\b" + key + "=([0-9]+)").matcher(console);
        long max = -1;
        while (m.find()) {
            max = Math.max(max, Long.parseLong(m.group(1)));
        }
        return max;
    }

    private static void keep(TestInfo test, Outcome o) throws IOException {
        Path dir = Path.of("target", "kernel-swap");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(test.getTestMethod().orElseThrow().getName() + ".console.log"), o.console());
    }

    private static String tail(String text) {
        String[] lines = text.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 60), lines.length));
    }
}
