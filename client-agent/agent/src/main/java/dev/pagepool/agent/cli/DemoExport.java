package dev.pagepool.agent.cli;

import dev.pagepool.agent.probe.BlockingNbdClient;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.nbd.NbdServer;
import dev.pagepool.agent.swap.SwapStore;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The demo's agent: a swap store on the demo's donors behind an NBD export, driven over NBD as a Linux host
 * would use it: always by the demo's own client ({@link BlockingNbdClient}), and also by libnbd's nbdcopy and
 * nbdinfo when they are installed.
 */
final class DemoExport {
    private static final long SIZE = 64L << 20;
    private static final int COPY = 32 << 20;
    /** Bytes per request of the demo's own client: 1 MiB, or less if the export takes less. */
    private static final int CHUNK = 1 << 20;

    /** Where the export's checks go: the demo's list of what held and what did not. */
    interface Checks {
        void check(boolean ok, String rule);

        /** A check that could not be run here; it counts neither way. */
        void skip(String rule, String why);
    }

    private DemoExport() {
    }

    static void run(PagePoolClient client, Checks checks) throws Exception {
        Path dir = Files.createTempDirectory("pagepool-demo-agent");
        Vertx vertx = Vertx.vertx();
        try (SwapStore swap = SwapStore.open(client, SIZE, dir.resolve("swap.img"), 0)) {
            // TCP, unlike the agent's default socket: on loopback, on a port of the system's choosing, for the demo's
            // minute and data of its own; the demo's client and libnbd's tools both reach it.
            NbdServer server = new NbdServer(vertx, swap, NbdServer.DEFAULT_EXPORT, "127.0.0.1", 0, 16L << 20);
            int port = server.start();
            String uri = "nbd://127.0.0.1:" + port + "/" + NbdServer.DEFAULT_EXPORT;
            System.out.printf("agent: %d MiB swap export at %s, %d cop%s of each page, disk fallback %s%n",
                SIZE >> 20, uri, swap.pool().replicas(), swap.pool().replicas() == 1 ? "y" : "ies", dir.resolve("swap.img"));
            try {
                byte[] data = new byte[COPY];
                new Random(11).nextBytes(data);
                checks.check(ownClient(port, data), "the NBD export served what was written to it (the demo's NBD client)");
                if (!onPath("nbdcopy") || !onPath("nbdinfo")) {
                    checks.skip("nbdcopy reads back what it wrote through the export",
                        "no libnbd client installed (Debian: libnbd-bin); the tests drive it with nbdinfo, nbdcopy, qemu-io and fio");
                } else {
                    checks.check(nbdcopy(uri, dir, data), "nbdcopy reads back what it wrote through the export");
                }
                System.out.println("agent: " + swap.counters().snapshot());
            } finally {
                server.close();
            }
        } finally {
            vertx.close();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /**
     * Writes {@code data} at the start of the export with the demo's client, flushes, reads it back on a second
     * connection (so nothing can come from the first one's state) and compares, byte for byte.
     */
    private static boolean ownClient(int port, byte[] data) throws IOException {
        long t0 = System.nanoTime();
        try (BlockingNbdClient nbd = BlockingNbdClient.connect("127.0.0.1", port, NbdServer.DEFAULT_EXPORT)) {
            if (nbd.exportBytes() != SIZE) {
                System.out.printf("agent: the export says it holds %d bytes, not %d%n", nbd.exportBytes(), SIZE);
                return false;
            }
            int chunk = Math.min(CHUNK, nbd.maxPayload());
            for (int at = 0; at < data.length; at += chunk) {
                nbd.write(at, data, at, Math.min(chunk, data.length - at));
            }
            nbd.flush();
            nbd.disconnect();
        }
        long t1 = System.nanoTime();
        byte[] back = new byte[data.length];
        try (BlockingNbdClient nbd = BlockingNbdClient.connect("127.0.0.1", port, NbdServer.DEFAULT_EXPORT)) {
            int chunk = Math.min(CHUNK, nbd.maxPayload());
            for (int at = 0; at < back.length; at += chunk) {
                nbd.read(at, back, at, Math.min(chunk, back.length - at));
            }
            nbd.disconnect();
        }
        long t2 = System.nanoTime();
        int firstDifference = Arrays.mismatch(data, back);
        System.out.printf("agent: the demo's NBD client wrote %d MiB and flushed in %d ms, read them back in %d ms; %s%n",
            data.length >> 20, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
            firstDifference < 0 ? "byte for byte the same" : "DIFFERENT BYTES from offset " + firstDifference);
        return firstDifference < 0;
    }

    private static boolean nbdcopy(String uri, Path dir, byte[] data) throws Exception {
        String info = run("nbdinfo", uri);
        System.out.println("agent: nbdinfo says " + info.lines().filter(l -> l.contains("export-size")
            || l.contains("can_trim") || l.contains("block_size_preferred")).map(String::trim).toList());
        // Other bytes than the demo's own client wrote, so a stale read could not pass.
        byte[] mine = data.clone();
        for (int i = 0; i < mine.length; i++) {
            mine[i] ^= (byte) 0xA5;
        }
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        Files.write(in, mine);
        long t0 = System.nanoTime();
        run("nbdcopy", in.toString(), uri);
        long t1 = System.nanoTime();
        run("nbdcopy", uri, out.toString());
        long t2 = System.nanoTime();
        byte[] back = Files.readAllBytes(out);
        boolean same = back.length >= mine.length && Arrays.equals(mine, 0, mine.length, back, 0, mine.length);
        System.out.printf("agent: nbdcopy wrote %d MiB in %d ms and read the whole export back in %d ms; %s%n",
            mine.length >> 20, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
            same ? "byte for byte the same" : "DIFFERENT BYTES");
        return same;
    }

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
