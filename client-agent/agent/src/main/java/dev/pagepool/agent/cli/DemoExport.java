package dev.pagepool.agent.cli;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.nbd.NbdServer;
import dev.pagepool.agent.swap.SwapStore;
import io.vertx.core.Vertx;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The demo's agent: a swap store on the demo's donors behind an NBD export, driven by a real NBD client
 * (libnbd's nbdcopy and nbdinfo) when one is installed, as a Linux host would use it.
 */
final class DemoExport {
    private static final long SIZE = 64L << 20;
    private static final int COPY = 32 << 20;

    private DemoExport() {
    }

    /** Returns null when every check held, else what failed. */
    static String run(PagePoolClient client) throws Exception {
        Path dir = Files.createTempDirectory("pagepool-demo-agent");
        Vertx vertx = Vertx.vertx();
        try (SwapStore swap = SwapStore.open(client, SIZE, dir.resolve("swap.img"), 0)) {
            NbdServer server = new NbdServer(vertx, swap, NbdServer.DEFAULT_EXPORT, "127.0.0.1", 0, 16L << 20);
            int port = server.start();
            String uri = "nbd://127.0.0.1:" + port + "/" + NbdServer.DEFAULT_EXPORT;
            System.out.printf("agent: %d MiB swap export at %s, %d cop%s of each page, disk fallback %s%n",
                SIZE >> 20, uri, swap.pool().replicas(), swap.pool().replicas() == 1 ? "y" : "ies", dir.resolve("swap.img"));
            try {
                if (!onPath("nbdcopy") || !onPath("nbdinfo")) {
                    System.out.println("agent: no NBD client installed (Debian: libnbd-bin), so the export was not driven;"
                        + " the tests drive it with nbdinfo, nbdcopy, qemu-io and fio");
                    return null;
                }
                String info = run("nbdinfo", uri);
                System.out.println("agent: nbdinfo says " + info.lines().filter(l -> l.contains("export-size")
                    || l.contains("can_trim") || l.contains("block_size_preferred")).map(String::trim).toList());
                byte[] data = new byte[COPY];
                new Random(11).nextBytes(data);
                Path in = dir.resolve("in.bin");
                Path out = dir.resolve("out.bin");
                Files.write(in, data);
                long t0 = System.nanoTime();
                run("nbdcopy", in.toString(), uri);
                long t1 = System.nanoTime();
                run("nbdcopy", uri, out.toString());
                long t2 = System.nanoTime();
                byte[] back = Files.readAllBytes(out);
                boolean same = Arrays.equals(data, 0, COPY, back, 0, COPY);
                System.out.printf("agent: nbdcopy wrote %d MiB in %d ms and read the whole export back in %d ms; %s%n",
                    COPY >> 20, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                    same ? "byte for byte the same" : "DIFFERENT BYTES");
                System.out.println("agent: " + swap.counters().snapshot());
                return same ? null : "nbdcopy read back what it wrote through the export";
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
