package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.launch.DonorProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pagepool agent} on real donors, driven by real NBD clients: what a Linux host does when it swaps on
 * pooled cluster RAM, with donors killed and squeezed meanwhile.
 */
class AgentTest {
    private static final int PAGE = 4096;

    private static List<String> fio(String uri, String size, String... more) {
        List<String> cmd = new java.util.ArrayList<>(List.of("fio", "--name=swap", "--verify_state_save=0", "--ioengine=nbd", "--uri=" + uri,
            "--rw=randwrite", "--bs=4k", "--iodepth=32", "--size=" + size, "--verify=crc32c", "--do_verify=1",
            "--verify_fatal=1", "--output-format=json"));
        cmd.addAll(List.of(more));
        return cmd;
    }

    @Test
    @Timeout(240)
    void copiesA64MiBFileInAndOutAndTheExportSaysWhatItIs(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-copy", 2, "128m");
             AgentProcess agent = AgentProcess.start(List.of("--nodes", cluster.nodesArg(), "--size", "128m",
                 "--disk", dir.resolve("swap.img").toString()))) {
            JsonNode info = new ObjectMapper().readTree(Tool.run(60, "nbdinfo", "--json", agent.uri()).ok().output());
            JsonNode export = info.get("exports").get(0);
            assertEquals(128L << 20, export.get("export-size").asLong(), info.toString());
            assertTrue(export.get("can_trim").asBoolean() && export.get("can_flush").asBoolean()
                && export.get("can_fua").asBoolean() && export.get("can_zero").asBoolean(), info.toString());

            byte[] data = new byte[64 << 20];
            new Random(7).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Path out = dir.resolve("out.bin");
            Files.write(in, data);
            Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
            Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
            byte[] back = Files.readAllBytes(out);
            assertEquals(128L << 20, back.length);
            assertArrayEquals(data, java.util.Arrays.copyOf(back, data.length));
            assertArrayEquals(new byte[64 << 20], java.util.Arrays.copyOfRange(back, data.length, back.length),
                "never-written blocks read as zeros");
            assertEquals(143, agent.stop(), "SIGTERM ends the JVM with 128 + 15 once its stop hook ran: " + agent.output());
            assertTrue(agent.output().contains("agent stopped"), agent.output());
        }
    }

    @Test
    @Timeout(300)
    void fioVerifiesWhileADonorIsKilled(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-kill", 3, "128m");
             AgentProcess agent = AgentProcess.start(List.of("--nodes", cluster.nodesArg(), "--size", "256m",
                 "--disk", dir.resolve("swap.img").toString(), "--replicas", "2"))) {
            DonorProcess victim = cluster.donor(1);
            try (Tool.Running running = Tool.start(fio(agent.uri(), "128m").toArray(String[]::new))) {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (storedPages(victim) < 2000 && System.nanoTime() < deadline && running.isAlive()) {
                    sleep(20);
                }
                // A kill after fio ended would prove nothing about the writes and verifies it made.
                assertTrue(running.isAlive(), "fio was still running when the donor was killed");
                victim.kill();
                Tool fio = running.finish(240).ok();
                assertFalse(victim.isAlive(), "the donor was killed during the run");
                JsonNode job = new ObjectMapper().readTree(fio.output().substring(fio.output().indexOf('{')))
                    .get("jobs").get(0);
                assertEquals(0, job.get("error").asInt(), fio.output());
            }
        }
    }

    @Test
    @Timeout(300)
    void fioVerifiesWhileADonorIsSqueezedAndPagesGoToDisk(@TempDir Path dir) throws Exception {
        try (DonorCluster cluster = DonorCluster.start("agent-squeeze", 2, "96m");
             AgentProcess agent = AgentProcess.start(List.of("--nodes", cluster.nodesArg(), "--size", "256m",
                 "--disk", dir.resolve("swap.img").toString(), "--replicas", "1"))) {
            DonorProcess squeezed = cluster.donor(0);
            Thread squeezer = new Thread(() -> {
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (storedPages(squeezed) < 8000 && System.nanoTime() < deadline) {
                    sleep(20);
                }
                try {
                    Donors.http(squeezed, "PUT", "/admin/capacity", "", "{\"bytes\": " + (16L << 20) + "}");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            squeezer.start();
            Tool fio = Tool.run(240, fio(agent.uri(), "160m").toArray(String[]::new));
            squeezer.join();
            fio.ok();
            JsonNode stats = new ObjectMapper().readTree(Donors.http(squeezed, "GET", "/admin/stats", "", null).body());
            assertTrue(stats.get("handed_back").asLong() > 0, "the squeezed donor handed pages back: " + stats);
            assertTrue(Files.size(dir.resolve("swap.img")) > 0, "pages went to the disk file");
        }
    }

    @Test
    @Timeout(240)
    void agentKilledInTheMiddleOfAHandBackLosesNoPageOnTheDonorAndLeaksNone(@TempDir Path dir) throws Exception {
        try (DonorProcess donor = Donors.start(Donors.lone("handback-kill", "", "96m").with("pagepool.node.lease", "3s"))) {
            String node = donor.dataEndpoint();
            long held;
            // Known contents, so that what the hand-back moved can be compared byte for byte, not only counted.
            byte[] data = new byte[64 << 20];
            new Random(11).nextBytes(data);
            Path in = dir.resolve("in.bin");
            Files.write(in, data);
            Path disk = dir.resolve("a.img");
            try (AgentProcess agent = AgentProcess.start(List.of("--nodes", node, "--size", "128m",
                    "--disk", disk.toString(), "--replicas", "1"))) {
                Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
                JsonNode before = stats(donor);
                held = before.get("pages_persistent").asLong();
                assertTrue(held > 10_000, before.toString());
                // Squeeze the donor and kill the agent while the pages flow back to it.
                assertEquals(200, Donors.http(donor, "PUT", "/admin/capacity", "", "{\"bytes\": " + (8L << 20) + "}").statusCode());
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (stats(donor).get("handed_back").asLong() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                agent.close(); // SIGKILL
            }
            Thread.sleep(300); // the donor sees the connection close; its lease (3 s) has not run out yet
            JsonNode after = stats(donor);
            long kept = after.get("pages_persistent").asLong();
            long handedBack = after.get("handed_back").asLong();
            System.out.printf("[handback-kill] of %d pages, %d were handed back and acknowledged before the kill, %d are"
                + " still held%n", held, handedBack, kept);
            assertTrue(handedBack > 0 && kept > 0, "the kill landed in the middle of the hand-back: " + after);
            // Every page is either acknowledged by the agent or still on the donor: none lost, none freed twice.
            assertEquals(held, handedBack + kept, after.toString());
            // The agent acknowledges a handed-back page once it is in its disk file (slot s at byte s * 4096): the
            // pages rejected during the copy and every acknowledged one are there, as written. A page written but
            // not yet acknowledged at the kill may be there too, so this is a lower bound.
            long rejectedAtCopy = data.length / PAGE - held;
            long onDisk = pagesOnDisk(disk, data);
            System.out.printf("[handback-kill] %d pages in the agent's disk file, all as written%n", onDisk);
            assertTrue(onDisk >= rejectedAtCopy + handedBack, "every acknowledged page reached the disk file: "
                + onDisk + " < " + rejectedAtCopy + " + " + handedBack);
            // The dead agent's lease runs out and its pool goes: no memory stays pinned.
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (stats(donor).get("pages_persistent").asLong() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(0, stats(donor).get("pages_persistent").asLong(), "the dead agent's pool was destroyed");
            assertEquals(200, Donors.http(donor, "PUT", "/admin/capacity", "", "{\"bytes\": " + (96L << 20) + "}").statusCode());
            try (AgentProcess again = AgentProcess.start(List.of("--nodes", node, "--size", "128m",
                    "--disk", dir.resolve("b.img").toString(), "--replicas", "1"))) {
                Tool.run(180, fio(again.uri(), "32m").toArray(String[]::new)).ok();
            }
        }
    }

    /**
     * The pages of the agent's disk file that were written (not all zeros, which random data never is), after
     * checking each holds the bytes written at its offset of the export.
     */
    private static long pagesOnDisk(Path disk, byte[] data) throws Exception {
        byte[] file = Files.readAllBytes(disk);
        assertTrue(file.length <= data.length, "the disk file holds only slots that were written: " + file.length);
        byte[] zeros = new byte[PAGE];
        long written = 0;
        for (int at = 0; at + PAGE <= file.length; at += PAGE) {
            if (Arrays.equals(file, at, at + PAGE, zeros, 0, PAGE)) {
                continue;
            }
            assertTrue(Arrays.equals(file, at, at + PAGE, data, at, at + PAGE),
                "slot " + at / PAGE + " of the disk file holds other bytes than were written there");
            written++;
        }
        return written;
    }

    private static JsonNode stats(DonorProcess donor) throws Exception {
        return new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", "", null).body());
    }

    private static long storedPages(DonorProcess donor) {
        try {
            return new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", "", null).body()).get("pages").asLong();
        } catch (Exception e) {
            return 0;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
