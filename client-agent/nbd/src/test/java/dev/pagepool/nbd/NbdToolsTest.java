package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The export against the real clients: libnbd's nbdinfo and nbdcopy, qemu-io, fio's nbd engine. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NbdToolsTest {
    private static final long MIB = 1 << 20;
    private static Vertx vertx;
    private MemoryBlockDevice device;
    private NbdServer server;

    @BeforeAll
    static void vertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (device != null) {
            device.close();
        }
    }

    private String uri() {
        return "nbd://127.0.0.1:" + server.port() + "/pagepool";
    }

    private void serve(MemoryBlockDevice d) {
        device = d;
        server = NbdServer.create(vertx, d, "127.0.0.1", 0);
        server.start();
    }

    @Test
    void nbdinfoShowsSizeFlagsAndBlockSizes() throws Exception {
        ToolRun.requireTool("nbdinfo");
        serve(new MemoryBlockDevice(4096));
        ToolRun run = ToolRun.run(60, "nbdinfo", "--json", uri()).ok();
        JsonNode export = new ObjectMapper().readTree(run.output()).get("exports").get(0);
        assertEquals(4096L * 4096, export.get("export-size").asLong(), run.output());
        assertEquals("pagepool", export.get("export-name").asText());
        for (String flag : new String[] {"can_trim", "can_flush", "can_fua", "can_zero", "can_multi_conn"}) {
            assertTrue(export.get(flag).asBoolean(), flag + " in " + run.output());
        }
        assertFalse(export.get("is_read_only").asBoolean());
        assertEquals(512, export.get("block_size_minimum").asInt(), run.output());
        assertEquals(4096, export.get("block_size_preferred").asInt(), run.output());
        // The default reserve's worst case (63 slabs of 128 KiB less a block): above the kernel's default 4 MiB.
        assertEquals(63 * 128 * 1024 - 4096, export.get("block_size_maximum").asLong(), run.output());
    }

    @Test
    void nbdinfoListsTheExport() {
        ToolRun.requireTool("nbdinfo");
        serve(new MemoryBlockDevice(256));
        ToolRun run = ToolRun.run(60, "nbdinfo", "--list", "nbd://127.0.0.1:" + server.port()).ok();
        assertTrue(run.output().contains("export=\"pagepool\""), run.output());
    }

    @Test
    void nbdinfoRefusesAnUnknownExportName() {
        ToolRun.requireTool("nbdinfo");
        serve(new MemoryBlockDevice(256));
        ToolRun run = ToolRun.run(60, "nbdinfo", "nbd://127.0.0.1:" + server.port() + "/nosuch");
        assertTrue(run.exitCode() != 0, run.output());
        ToolRun.run(60, "nbdinfo", uri()).ok();
    }

    @Test
    void qemuIoWritesReadsZeroesDiscardsAndFlushes() {
        ToolRun.requireTool("qemu-io");
        serve(new MemoryBlockDevice(1024).async(3, 200));
        ToolRun run = qemuIo(
            "write -P 0xab 0 1M", "read -P 0xab 0 1M",
            "write -z 4096 8192", "read -P 0 4096 8192", "read -P 0xab 0 4096", "read -P 0xab 12288 4096",
            "discard 0 64k", "read -P 0 0 64k",
            "flush");
        assertTrue(device.flushes.get() > 0, "flush reached the device");
        assertTrue(device.trims.get() > 0, "discard reached the device");
        assertEquals(0, countNonZero(device.bytes(), 0, 65536));
        byte[] expect = new byte[4096];
        Arrays.fill(expect, (byte) 0xab);
        assertArrayEquals(expect, Arrays.copyOfRange(device.bytes(), 65536, 65536 + 4096), run.output());
    }

    @Test
    void qemuIoUnalignedSectorsKeepTheirNeighbours() {
        ToolRun.requireTool("qemu-io");
        serve(new MemoryBlockDevice(1024).async(3, 200));
        qemuIo("write -P 0x22 0 8k",
            "write -P 0x11 512 512", "read -P 0x11 512 512",
            "read -P 0x22 0 512", "read -P 0x22 1024 7k",
            // a write straddling the block boundary, unaligned at both ends
            "write -P 0x33 3584 1024", "read -P 0x33 3584 1024", "read -P 0x22 1024 2560", "read -P 0x22 4608 3584",
            "write -z 6144 1024", "read -P 0 6144 1024", "read -P 0x22 4608 1536", "read -P 0x22 7168 1024",
            // FUA on an unaligned write
            "write -f -P 0x44 8704 512", "read -P 0x44 8704 512", "read -P 0 8192 512", "read -P 0 9216 1k");
        assertTrue(device.flushes.get() > 0, "FUA flushed the device");
    }

    @Test
    void nbdcopyRoundTripsSixtyFourMebibytes(@TempDir Path dir) throws Exception {
        ToolRun.requireTool("nbdcopy");
        serve(new MemoryBlockDevice(64 * MIB / 4096).async(2, 0));
        byte[] content = new byte[(int) (64 * MIB)];
        new Random(42).nextBytes(content);
        Path in = dir.resolve("in.img");
        Path out = dir.resolve("out.img");
        Files.write(in, content);
        ToolRun.run(120, "nbdcopy", in.toString(), uri()).ok();
        assertTrue(Arrays.equals(content, device.bytes()), "device holds the file");
        ToolRun.run(120, "nbdcopy", uri(), out.toString()).ok();
        assertTrue(Arrays.equals(content, Files.readAllBytes(out)), "copied out what was copied in");
    }

    @Test
    void fioRandomWritesVerify() {
        ToolRun.requireTool("fio");
        serve(new MemoryBlockDevice(32 * MIB / 4096).async(2, 50));
        ToolRun run = ToolRun.run(150, "fio", "--name=v", "--verify_state_save=0", "--ioengine=nbd", "--uri=" + uri(),
            "--rw=randwrite", "--bs=4k", "--iodepth=32", "--size=32m", "--verify=crc32c", "--do_verify=1",
            "--verify_fatal=1").ok();
        assertFalse(run.output().contains("verify:"), run.output());
        assertFalse(run.output().toLowerCase().contains("bad magic"), run.output());
    }

    @Test
    void fioUnalignedMixedVerify() {
        ToolRun.requireTool("fio");
        serve(new MemoryBlockDevice(8 * MIB / 4096).async(3, 100));
        ToolRun run = ToolRun.run(150, "fio", "--name=u", "--verify_state_save=0", "--ioengine=nbd", "--uri=" + uri(),
            "--rw=randwrite", "--bs=512", "--iodepth=32", "--size=2m", "--verify=crc32c", "--do_verify=1",
            "--verify_fatal=1").ok();
        assertFalse(run.output().contains("verify:"), run.output());
    }

    private ToolRun qemuIo(String... commands) {
        String[] args = new String[4 + 2 * commands.length];
        args[0] = "qemu-io";
        args[1] = "-f";
        args[2] = "raw";
        args[3] = uri();
        for (int i = 0; i < commands.length; i++) {
            args[4 + 2 * i] = "-c";
            args[5 + 2 * i] = commands[i];
        }
        ToolRun run = ToolRun.run(90, args).ok();
        for (String bad : new String[] {"failed", "Pattern verification", "error", "Error"}) {
            assertFalse(run.output().contains(bad), "qemu-io said '" + bad + "':\n" + run.output());
        }
        return run;
    }

    private static int countNonZero(byte[] b, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                n++;
            }
        }
        return n;
    }
}
