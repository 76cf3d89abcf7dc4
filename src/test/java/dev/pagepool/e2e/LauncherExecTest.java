package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.launch.DonorProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code ./pagepool node} is the donor: the process the operator started is the donor's JVM, so a kill -9 of that
 * pid (what a supervisor does) leaves no orphan holding the ports and the memory.
 */
class LauncherExecTest {
    private static final Path ROOT = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize();

    @Test
    @Timeout(120)
    void thePidTheOperatorStartedIsTheDonorAndKillingItFreesItsPort() throws Exception {
        int data = DonorProcess.freePort();
        int http = DonorProcess.freePort();
        Path log = Files.createTempFile("pagepool-exec-", ".log");
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("pagepool").toString(), "node", "--data-port", Integer.toString(data),
            "--http-port", Integer.toString(http), "--capacity", "32m", "--heap", "128m")
            .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PAGEPOOL_CLUSTER_ENABLED", "false");
        Process p = pb.start();
        try {
            awaitListening(data, p, log);
            String cmdline = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"), StandardCharsets.UTF_8);
            assertTrue(cmdline.contains("quarkus-run.jar"), "the started pid runs the donor itself: " + cmdline.replace('\0', ' '));
            p.destroyForcibly(); // SIGKILL to that pid only, as a supervisor would
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(137, p.exitValue(), "the exit status is the donor's own");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (isListening(data) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(!isListening(data), "no orphan donor still holds data port " + data);
        } finally {
            p.destroyForcibly();
        }
    }

    private static void awaitListening(int port, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + Donors.READY_TIMEOUT.toNanos();
        while (!isListening(port)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("./pagepool node did not start:\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
    }

    private static boolean isListening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
