package dev.pagepool.discovery;

import static dev.pagepool.discovery.TestCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A donor process frozen with SIGSTOP (a stuck JVM, a VM paused by its host): its sockets stay open, so only the
 * heartbeat timeout can notice it. Measures that time, then resumes the process and checks it rejoins.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class FrozenMemberTest {
    private TestCluster cluster;
    private ClusterView view;
    private Process child;

    @AfterEach
    void tearDown() throws Exception {
        if (child != null) {
            try {
                if (child.isAlive()) {
                    signal("CONT", child.pid());
                }
            } finally {
                child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (view != null) {
            view.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aFrozenDonorIsRemovedAfterTheHeartbeatTimeoutAndRejoinsWhenResumed() throws Exception {
        // A missing tool fails the test rather than skipping it, so CI cannot pass without the freeze being tried.
        assertTrue(Files.isExecutable(Path.of("/bin/kill")) || Files.isExecutable(Path.of("/usr/bin/kill")),
            "needs kill(1) to send SIGSTOP (procps; .ci/run installs it)");
        cluster = new TestCluster(3);
        cluster.start(0);
        cluster.start(1);
        child = startChild(cluster, 2, "donor-frozen");
        view = ClusterView.connect(cluster.name, cluster.addresses, Duration.ofSeconds(15));
        await(Duration.ofSeconds(20), "3 donors", () -> view.donors().size() == 3);
        UUID frozen = view.donors().stream().filter(d -> d.name().equals("donor-frozen")).findFirst().orElseThrow()
            .memberUuid();
        Map<UUID, Long> removedAt = new ConcurrentHashMap<>();
        view.addListener(new DonorListener() {
            @Override
            public void donorRemoved(DonorInfo donor) {
                removedAt.put(donor.memberUuid(), System.nanoTime());
            }
        });

        long frozenAt = System.nanoTime();
        signal("STOP", child.pid());
        await(ClusterSettings.DEFAULT_FAILURE_TIMEOUT.plusSeconds(5), "frozen donor removed",
            () -> removedAt.containsKey(frozen));
        long millis = (removedAt.get(frozen) - frozenAt) / 1_000_000;
        System.out.printf("frozen donor left the view after %d ms%n", millis);
        assertTrue(millis >= ClusterSettings.DEFAULT_FAILURE_TIMEOUT.toMillis() - 1500,
            "removed by the heartbeat timeout, not earlier: " + millis + " ms");
        assertEquals(List.of("donor-0", "donor-1"), view.donors().stream().map(DonorInfo::name).toList());

        long resumedAt = System.nanoTime();
        signal("CONT", child.pid());
        await(Duration.ofSeconds(45), "resumed donor back in the view",
            () -> view.donors().stream().anyMatch(d -> d.name().equals("donor-frozen") && d.loadKnown()));
        System.out.printf("resumed donor rejoined after %d ms%n", (System.nanoTime() - resumedAt) / 1_000_000);
        await(Duration.ofSeconds(10), "3 members everywhere",
            () -> cluster.members.stream().allMatch(m -> m.clusterSize() == 3) && view.donors().size() == 3);
    }

    private static Process startChild(TestCluster cluster, int index, String name) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "-Xmx96m", "-XX:TieredStopAtLevel=1",
            "-Djava.util.logging.config.file=" + System.getProperty("java.util.logging.config.file", ""),
            "-cp", System.getProperty("java.class.path"), DonorProcessMain.class.getName(),
            cluster.name, String.join(",", cluster.addresses), Integer.toString(cluster.ports.get(index)), name)
            .redirectErrorStream(true);
        Process process = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("READY ")) {
                Thread drain = new Thread(() -> out.lines().forEach(l -> System.out.println("[child] " + l)));
                drain.setDaemon(true);
                drain.start();
                return process;
            }
            System.out.println("[child] " + line);
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        process.destroyForcibly();
        throw new AssertionError("donor process did not start");
    }

    /** Sends the signal with kill(1) and fails unless it was delivered: a lost SIGSTOP would freeze nothing. */
    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertTrue(kill.waitFor(5, TimeUnit.SECONDS), "kill -" + signal + " " + pid + " did not end");
        String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, kill.exitValue(), "kill -" + signal + " " + pid + ": " + out);
    }
}
