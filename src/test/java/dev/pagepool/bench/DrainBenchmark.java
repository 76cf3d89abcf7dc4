package dev.pagepool.bench;

import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.agent.swap.SwapStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Hand-back to a disk-writing peer, measured by draining a donor: an agent's swap store fills a donor with
 * {@code GiB} of half-compressible pages, then {@code POST /admin/drain} hands every one of them back to the
 * agent, which writes them to its local swap file. Prints the drain time and the hand-back rate.
 * Run by {@code bench/drain.sh}.
 */
public final class DrainBenchmark {
    private static final int B = 4096;

    public static void main(String[] args) throws Exception {
        long gib = args.length > 0 ? Long.parseLong(args[0]) : 1;
        long bytes = gib << 30;
        Path dir = Files.createTempDirectory("pagepool-drain-bench");
        try (DonorProcess donor = DonorProcess.start(DonorSettings.defaults("drain-bench").withCapacity((gib * 1024 + 256) + "m")
                 .with("pagepool.cluster.enabled", "false").with("pagepool.node.drain-timeout", "300s"), Duration.ofSeconds(90));
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), ""));
             SwapStore swap = SwapStore.open(client, bytes, dir.resolve("swap.img"), 1)) {
            byte[] chunk = new byte[256 * B];
            PageContent content = new PageContent(0.5);
            for (long first = 0; first < bytes / B; first += 256) {
                for (int j = 0; j < 256; j++) {
                    content.fill(0, (int) first + j, chunk, j * B);
                }
                swap.write(first, 256, chunk, 0).join();
            }
            long t0 = System.nanoTime();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(donor.httpUrl() + "/admin/drain")).timeout(Duration.ofMinutes(6))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("drain of %d GiB held by one donor: %.2f s, %.0f MB/s handed back to the agent's disk file%n",
                gib, seconds, bytes / 1e6 / seconds);
            System.out.println("donor's summary: " + r.body());
            System.out.println("agent: " + swap.counters().snapshot());
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
