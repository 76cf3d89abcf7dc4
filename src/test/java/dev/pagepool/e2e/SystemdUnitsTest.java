package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.cli.ByteSize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The units of {@code deploy/systemd/} as an operator installs them: systemd itself accepts them (syntax, known
 * settings, executables that exist, dependencies that resolve), and they keep the swap host's precautions and the
 * ordering that never stops the agent while the kernel swaps on its export.
 */
class SystemdUnitsTest {
    private static final Path DIR = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize()
        .resolve("deploy/systemd");
    private static final String DONOR = "pagepool-donor.service";
    private static final String AGENT = "pagepool-agent.service";
    private static final String SWAP = "pagepool-swap.service";

    @Test
    void systemdAnalyzeVerifyAcceptsEveryUnitWithoutAWarning() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("systemd-analyze", "verify"));
        for (String unit : List.of(DONOR, AGENT, SWAP)) {
            cmd.add(DIR.resolve(unit).toString());
        }
        Tool verify = Tool.run(60, cmd.toArray(new String[0]));
        // verify only warns about unknown keys and exits 0: any output at all is a defect in a unit.
        assertEquals(0, verify.exitCode(), verify.output());
        assertEquals("", verify.output().strip(), "systemd-analyze verify had something to say");
    }

    @Test
    void theSwapUnitStartsAfterTheAgentAndIsStoppedBeforeIt() throws Exception {
        UnitFile swap = UnitFile.read(DIR.resolve(SWAP));
        // Requires=: stopping the agent stops the swap unit too; After=: the swap unit's stop (swapoff) runs and
        // finishes before the agent's stop begins, and its start waits for the agent's.
        assertTrue(swap.units("Unit.Requires").contains(AGENT) || swap.units("Unit.BindsTo").contains(AGENT),
            "the swap unit must be stopped whenever the agent is");
        assertTrue(swap.units("Unit.After").contains(AGENT), "the swap unit must be ordered after the agent");
        UnitFile agent = UnitFile.read(DIR.resolve(AGENT));
        assertTrue(!agent.units("Unit.After").contains(SWAP),
            "the agent must not be ordered after the swap unit: that would reverse the stop order");
        assertEquals("oneshot", swap.one("Service.Type"));
        assertEquals("yes", swap.one("Service.RemainAfterExit"), "swap stays on until the unit is stopped");
    }

    @Test
    void theSwapUnitWaitsForReadinessThenAttachesFormatsAndSwapsOn() throws Exception {
        UnitFile swap = UnitFile.read(DIR.resolve(SWAP));
        String pre = String.join("\n", swap.all("Service.ExecStartPre"));
        assertTrue(pre.contains("/q/health/ready"), "the swap unit waits for the agent's readiness: " + pre);
        List<String> start = swap.all("Service.ExecStart");
        assertEquals(3, start.size(), "nbd-client, mkswap, swapon: " + start);
        assertTrue(start.get(0).startsWith("/usr/sbin/nbd-client ") && start.get(0).contains(" -swap"), start.get(0));
        assertTrue(start.get(0).contains(" -unix ${PAGEPOOL_NBD_SOCKET} ")
            && swap.all("Service.Environment").contains("PAGEPOOL_NBD_SOCKET=/run/pagepool/pagepool.sock"),
            "nbd-client opens the agent's root-only socket: " + start.get(0));
        assertTrue(start.get(0).contains(" -persist"),
            "a restarted agent resumes the export: the kernel's client reconnects to it: " + start.get(0));
        assertTrue(start.get(1).startsWith("/sbin/mkswap "), start.get(1));
        assertTrue(start.get(2).startsWith("/sbin/swapon -p "), start.get(2));
        List<String> stop = swap.all("Service.ExecStop");
        assertTrue(stop.get(0).contains("swapoff"), "swapoff first: " + stop);
        assertTrue(stop.get(stop.size() - 1).contains("nbd-client -d"), "then the device is disconnected: " + stop);
        assertEquals("infinity", swap.one("Service.TimeoutStopSec"),
            "swapoff takes as long as reading the pages back takes; the agent must not be stopped meanwhile");
    }

    @Test
    void theAgentUnitKeepsTheSwapHostsPrecautions() throws Exception {
        UnitFile agent = UnitFile.read(DIR.resolve(AGENT));
        assertEquals("0", agent.one("Service.MemorySwapMax"), "the agent's own pages never go to swap");
        assertEquals("-1000", agent.one("Service.OOMScoreAdjust"), "as nbd-client -swap sets for itself");
        assertEquals("on-failure", agent.one("Service.Restart"), "a restarted agent resumes the export");
        assertEquals("pagepool", agent.one("Service.RuntimeDirectory"));
        assertEquals("yes", agent.one("Service.RuntimeDirectoryPreserve"), "the state outlives a restart of the unit");
        assertTrue(agent.one("Service.ExecStart").contains("--state /run/pagepool"), "and the agent keeps it there");
        assertEquals("mixed", agent.one("Service.KillMode"));
        assertTrue(seconds(agent.one("Service.TimeoutStopSec")) >= 60, "the stop waits for the agent to drain");
        String opts = String.join(" ", agent.all("Service.Environment"));
        Matcher xmx = Pattern.compile("-Xmx(\\w+)").matcher(opts);
        Matcher xms = Pattern.compile("-Xms(\\w+)").matcher(opts);
        Matcher dm = Pattern.compile("-XX:MaxDirectMemorySize=(\\w+)").matcher(opts);
        assertTrue(xmx.find() && xms.find() && dm.find(), "a fixed heap and a direct-memory bound: " + opts);
        long heap = ByteSize.parse(xmx.group(1)).bytes();
        assertEquals(heap, ByteSize.parse(xms.group(1)).bytes(), "the heap is fixed: -Xms = -Xmx");
        long direct = ByteSize.parse(dm.group(1)).bytes();
        assertTrue(opts.contains("-XX:+AlwaysPreTouch"), "the heap is touched at start");
        long min = ByteSize.parse(agent.one("Service.MemoryMin")).bytes();
        assertTrue(min >= heap + direct, "MemoryMin " + min + " must cover the heap " + heap + " and direct memory "
            + direct);
        String exec = agent.one("Service.ExecStart");
        assertTrue(exec.contains(" agent ") && exec.contains("--http"), exec);
    }

    @Test
    void theAgentUnitsJvmOptionsAreTheLaunchersForWhatItServes() throws Exception {
        UnitFile agent = UnitFile.read(DIR.resolve(AGENT));
        String size = null;
        String opts = null;
        for (String env : agent.all("Service.Environment")) {
            String e = env.replaceAll("^\"|\"$", "");
            if (e.startsWith("PAGEPOOL_SWAP_SIZE=")) {
                size = e.substring(e.indexOf('=') + 1);
            } else if (e.startsWith("PAGEPOOL_AGENT_JAVA_OPTS=")) {
                opts = e.substring(e.indexOf('=') + 1);
            }
        }
        assertTrue(size != null && opts != null, "the unit sets the export's size and the JVM's options");
        assertTrue(agent.one("Service.ExecStart").contains("--members"), "the unit learns its donors from the cluster");
        // Written out in the unit, since systemd runs java itself: the same options ./pagepool would give it.
        List<String> unit = List.of(opts.split("\\s+"));
        for (String o : AgentProcess.launcherOptions(List.of("--members", "127.0.0.1:5701", "--size", size))) {
            assertTrue(unit.contains(o), "the unit's JVM options lack the launcher's " + o + " for a " + size
                + " export with --members: " + opts);
        }
    }

    @Test
    void theAgentUnitGivesWhatLockingNeedsAndRequiresIt() throws Exception {
        UnitFile agent = UnitFile.read(DIR.resolve(AGENT));
        String exec = agent.one("Service.ExecStart");
        assertTrue(exec.contains("--require-locked"), "the agent refuses to serve swap unlocked: " + exec);
        assertEquals("infinity", agent.one("Service.LimitMEMLOCK"), "mlockall with MCL_FUTURE needs no limit");
        // mlockall: CAP_IPC_LOCK; PR_SET_IO_FLUSHER and oom_score_adj -1000: CAP_SYS_RESOURCE. It runs as its own
        // user, so the capabilities are ambient, and the bounding set holds nothing more.
        assertTrue(!agent.one("Service.User").equals("root"), "the agent runs as its own user");
        for (String key : List.of("Service.AmbientCapabilities", "Service.CapabilityBoundingSet")) {
            assertEquals(List.of("CAP_IPC_LOCK", "CAP_SYS_RESOURCE"),
                List.of(agent.one(key).split("\\s+")).stream().sorted().toList(), key);
        }
        assertTrue(!exec.contains("--nbd"), "no TCP export: " + exec);
        assertTrue(exec.contains("--socket /run/pagepool/pagepool.sock"), exec);
        assertEquals("pagepool", agent.one("Service.RuntimeDirectory"), "systemd makes /run/pagepool for the socket");
        assertEquals("0700", agent.one("Service.RuntimeDirectoryMode"), "no other user reaches the socket's directory");
    }

    @Test
    void theDonorUnitGivesTheDrainTimeToFinish() throws Exception {
        UnitFile donor = UnitFile.read(DIR.resolve(DONOR));
        assertEquals("SIGTERM", donor.one("Service.KillSignal"), "SIGTERM drains the donor");
        // pagepool.node.drain-timeout defaults to 30 s.
        assertTrue(seconds(donor.one("Service.TimeoutStopSec")) > 30, "longer than the drain timeout");
        assertTrue(donor.one("Service.ExecStart").contains("quarkus-run.jar"), donor.one("Service.ExecStart"));
    }

    private static long seconds(String timespan) {
        return timespan.equals("infinity") ? Long.MAX_VALUE : Long.parseLong(timespan.replace("s", ""));
    }
}
