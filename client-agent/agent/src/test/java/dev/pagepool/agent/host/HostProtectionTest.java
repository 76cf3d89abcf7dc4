package dev.pagepool.agent.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The protection step in a JVM of its own, once with what it needs taken away (prlimit lowers the locked-memory
 * limit, setpriv drops CAP_IPC_LOCK and CAP_SYS_RESOURCE), once with what this machine gives: every safeguard that
 * does not hold says why and what to do, and every one that can hold does.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostProtectionTest {
    private record Run(int exitCode, String output) {
    }

    private static Run probe(String... wrapper) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(wrapper));
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-cp",
            System.getProperty("java.class.path"), HostProtectionProbe.class.getName()));
        Path log = Files.createTempFile("host-protection", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(p.waitFor(50, TimeUnit.SECONDS), "the probe did not finish");
            return new Run(p.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void withoutTheCapabilitiesAndUnderALowLimitEachSafeguardSaysWhyNotAndWhatToDo() throws Exception {
        assumeTrue(onPath("prlimit") && onPath("setpriv"), "util-linux's prlimit and setpriv");
        // Dropping capabilities from the bounding set needs CAP_SETPCAP: root, as the tests run.
        assumeTrue(ProcSelf.hasCapability(8), "CAP_SETPCAP, to drop capabilities for the probe");
        Run run = probe("prlimit", "--memlock=65536:65536", "--", "setpriv", "--inh-caps=-all",
            "--bounding-set=-ipc_lock,-sys_resource", "--");
        String out = run.output();
        assertEquals(3, run.exitCode(), "requireAll refuses: " + out);
        assertTrue(out.contains("mlockall: NOT HELD: nothing locked: the process lacks CAP_IPC_LOCK and its "
            + "locked-memory limit (RLIMIT_MEMLOCK) is 65536 bytes"), out);
        assertTrue(out.contains("AmbientCapabilities=CAP_IPC_LOCK") && out.contains("LimitMEMLOCK=infinity"), out);
        assertTrue(out.contains("io_flusher: NOT HELD: PR_SET_IO_FLUSHER refused: the process lacks CAP_SYS_RESOURCE; "
            + "to fix: grant CAP_SYS_RESOURCE (systemd: AmbientCapabilities=CAP_SYS_RESOURCE)"), out);
        assertTrue(out.contains("oom_score_adj: NOT HELD: could not write -1000"), out);
        assertTrue(out.contains("OOMScoreAdjust=-1000"), out);
        assertTrue(out.contains("refusing to start without every host protection (--require-locked): mlockall"), out);
    }

    @Test
    void withTheCapabilitiesEachSafeguardHolds() throws Exception {
        Run run = probe();
        String out = run.output();
        // No capability needed: the agent's locked memory is never rounded up to huge pages.
        assertTrue(out.contains("host protection: transparent huge pages off for the agent"), out);
        assertTrue(out.contains("kernel: THP_enabled:\t0"), out);
        // This machine may withhold some (a container without CAP_SYS_RESOURCE): each is checked against what the
        // process could have, so a capability present and not used fails, and one absent is explained.
        if (ProcSelf.hasCapability(ProcSelf.CAP_IPC_LOCK)) {
            assertTrue(out.contains("mlockall: every page the agent touches stays in RAM (MCL_CURRENT | MCL_FUTURE"
                + " | MCL_ONFAULT)"), out);
        } else {
            assertTrue(out.contains("mlockall: NOT HELD"), out);
        }
        if (ProcSelf.hasCapability(ProcSelf.CAP_SYS_RESOURCE)) {
            assertTrue(out.contains("io_flusher: PR_SET_IO_FLUSHER on the main thread"), out);
            assertTrue(out.contains("oom_score_adj: -1000"), out);
            assertEquals(ProcSelf.hasCapability(ProcSelf.CAP_IPC_LOCK) ? 0 : 3, run.exitCode(), out);
        } else {
            assertTrue(out.contains("io_flusher: NOT HELD: PR_SET_IO_FLUSHER refused: the process lacks "
                + "CAP_SYS_RESOURCE"), out);
            assertTrue(out.contains("oom_score_adj: NOT HELD"), out);
            assertEquals(3, run.exitCode(), out);
        }
    }
}
