package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent on the host whose swap it serves: locked in RAM, its I/O threads out of reclaim's way and out of the
 * OOM killer's reach, each reported in its log and its readiness; its export a Unix socket only root opens.
 *
 * <p>The tests run as root. Where this machine withholds a capability (a container without CAP_SYS_RESOURCE), the
 * agent cannot have what needs it: then the test checks that the agent says so and why, instead of the setting.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentHostTest {
    private static final int CAP_IPC_LOCK = 14;
    private static final int CAP_SYS_RESOURCE = 24;
    /** PF_MEMALLOC_NOIO in a thread's flags (/proc/PID/task/TID/stat, field 9): what PR_SET_IO_FLUSHER sets. */
    private static final long PF_MEMALLOC_NOIO = 0x00080000;

    private static DonorCluster cluster;
    private static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("pagepool-host-");
        // Traversable by others, so that a refused connection is the socket's own mode at work, not the directory's.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        cluster = DonorCluster.start("host", 1, "64m");
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private List<String> agentArgs(String disk) {
        return List.of("--members", cluster.members, "--cluster-name", cluster.name, "--size", "64m",
            "--disk", dir.resolve(disk).toString());
    }

    @Test
    void theAgentIsLockedOutOfReclaimsWayAndOutOfTheOomKillersReachAndSaysSo() throws Exception {
        assertTrue(hasCapability(CAP_IPC_LOCK), "the tests run as root");
        try (AgentProcess agent = AgentProcess.start(agentArgs("locked.img"))) {
            String log = agent.output();
            assertTrue(log.contains("host protection: mlockall: every page the agent touches stays in RAM"), log);
            long locked = statusKib(agent.pid(), "VmLck");
            assertTrue(locked > 0, "VmLck " + locked + " kB");
            JsonNode check = readyCheck(agent, "host-protection");
            assertEquals("UP", check.get("status").asText(), check.toString());
            JsonNode data = check.get("data");
            assertTrue(data.get("mlockall").get("held").asBoolean(), data.toString());
            int adj = Integer.parseInt(Files.readString(Path.of("/proc/" + agent.pid() + "/oom_score_adj")).strip());
            if (hasCapability(CAP_SYS_RESOURCE)) {
                assertEquals(-1000, adj);
                assertTrue(log.contains("host protection: oom_score_adj: -1000"), log);
                assertTrue(log.contains("host protection: io_flusher: PR_SET_IO_FLUSHER on the main thread"), log);
                assertEquals("PROTECTED", data.get("state").asText(), data.toString());
                assertTrue(data.get("io_flusher").get("held").asBoolean() && data.get("oom_score_adj").get("held")
                    .asBoolean(), data.toString());
                List<String> loops = threadsWithout(agent.pid(), "vert.x-eventloo", PF_MEMALLOC_NOIO);
                assertEquals(List.of(), loops, "event loops without PR_SET_IO_FLUSHER");
            } else {
                assertNotEquals(-1000, adj);
                assertTrue(log.contains("host protection: oom_score_adj: NOT HELD") && log.contains("OOMScoreAdjust=-1000"), log);
                assertTrue(log.contains("host protection: io_flusher: NOT HELD: PR_SET_IO_FLUSHER refused: the process "
                    + "lacks CAP_SYS_RESOURCE; to fix: grant CAP_SYS_RESOURCE"), log);
                assertEquals("UNPROTECTED", data.get("state").asText(), data.toString());
                assertTrue(data.get("oom_score_adj").get("remedy").asText().contains("CAP_SYS_RESOURCE"), data.toString());
            }
        }
    }

    @Test
    void requireLockedRefusesToStartWithoutThemAndSaysWhatIsMissing() throws Exception {
        // Everything the protections need taken away: a 64 KiB lock limit, no CAP_IPC_LOCK, no CAP_SYS_RESOURCE.
        List<String> cmd = new ArrayList<>(List.of("prlimit", "--memlock=65536:65536", "--", "setpriv",
            "--inh-caps=-all", "--bounding-set=-ipc_lock,-sys_resource", "--"));
        cmd.addAll(AgentProcess.command(List.of("--require-locked", "--nbd", "127.0.0.1:0", "--nodes", "127.0.0.1:1",
            "--size", "64m", "--disk", dir.resolve("refused.img").toString())));
        Tool run = Tool.run(60, cmd.toArray(new String[0]));
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("refusing to start without every host protection (--require-locked): "
            + "mlockall: NOT HELD"), run.output());
        assertTrue(run.output().contains("CAP_IPC_LOCK") && run.output().contains("LimitMEMLOCK=infinity")
            && run.output().contains("CAP_SYS_RESOURCE"), run.output());
        assertTrue(!run.output().contains("serving nbd"), run.output());
    }

    @Test
    void theExportIsAUnixSocketOnlyRootOpensAndLibnbdsToolsWorkThroughIt() throws Exception {
        Path socket = dir.resolve("pagepool.sock");
        try (AgentProcess agent = AgentProcess.startOnSocket(socket, agentArgs("socket.img"))) {
            String uri = "nbd+unix:///pagepool?socket=" + socket;
            assertTrue(agent.output().contains("serving " + uri + ": 64m"), agent.output());
            assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS)));
            assertEquals(0, (Integer) Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS));
            Tool info = Tool.run(60, "nbdinfo", "--size", uri).ok();
            assertEquals(64L << 20, Long.parseLong(info.output().strip()), info.output());

            byte[] data = new byte[8 << 20];
            new Random(28).nextBytes(data);
            Path in = Files.write(dir.resolve("in.bin"), data);
            Path out = dir.resolve("out.bin");
            Tool.run(120, "nbdcopy", in.toString(), uri).ok();
            Tool.run(120, "nbdcopy", uri, out.toString()).ok();
            byte[] back = Files.readAllBytes(out);
            assertEquals(64 << 20, back.length);
            assertArrayEquals(data, Arrays.copyOf(back, data.length), "nbdcopy reads back what it wrote");

            Tool other = Tool.run(60, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "nbdinfo", "--size", uri);
            assertNotEquals(0, other.exitCode(), "a user other than root opened the export: " + other.output());
            assertTrue(other.output().contains("Permission denied"), other.output());
            agent.stop(); // SIGTERM: the agent closes its export, and its socket with it
        }
        assertTrue(!Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "a stopped agent leaves no socket behind");
    }

    private static boolean hasCapability(int cap) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << cap)) != 0;
            }
        }
        return false;
    }

    private static long statusKib(long pid, String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").strip());
            }
        }
        throw new AssertionError(field + " not in /proc/" + pid + "/status");
    }

    /** The names of {@code pid}'s threads whose name starts with {@code prefix} and that lack {@code flag}. */
    private static List<String> threadsWithout(long pid, String prefix, long flag) throws Exception {
        List<String> without = new ArrayList<>();
        int seen = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String stat = Files.readString(task.resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                if (!name.startsWith(prefix)) {
                    continue;
                }
                seen++;
                // After the name: state is field 3, flags field 9.
                long flags = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[6]);
                if ((flags & flag) == 0) {
                    without.add(name + " " + task.getFileName());
                }
            }
        }
        assertTrue(seen > 0, "no thread named " + prefix + "* in " + pid);
        return without;
    }

    private static JsonNode readyCheck(AgentProcess agent, String id) throws Exception {
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + agent.httpPort + "/q/health/ready")).timeout(Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode check : new ObjectMapper().readTree(ready.body()).get("checks")) {
            if (check.get("id").asText().equals(id)) {
                return check;
            }
        }
        throw new AssertionError("no " + id + " check in " + ready.body());
    }
}
