package dev.pagepool.agent.cli;

import dev.pagepool.agent.bench.LoadResult;
import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.agent.bench.PageLoad;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.PoolSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", description = "Starts donors on 127.0.0.1, runs a verified workload through them, prints a summary.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--donors", defaultValue = "3", description = "Donor processes to start, in one Hazelcast cluster (default ${DEFAULT-VALUE}).")
    int donors;
    @Option(names = "--pages", defaultValue = "50000", description = "Pages of the persistent workload (default ${DEFAULT-VALUE}).")
    long pages;
    @Option(names = "--keep", description = "Leave the donors running until Ctrl-C.")
    boolean keep;

    private final List<String> failures = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (donors < 1 || donors > 16) {
            throw new IllegalArgumentException("--donors must be 1..16");
        }
        List<DonorProcess> started = new ArrayList<>();
        int[] hazelcastPorts = new int[donors];
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < donors; i++) {
            hazelcastPorts[i] = DonorProcess.freePort();
            members.append(i == 0 ? "" : ",").append("127.0.0.1:").append(hazelcastPorts[i]);
        }
        String cluster = "pagepool-demo-" + ProcessHandle.current().pid();
        try {
            for (int i = 0; i < donors; i++) {
                DonorProcess d = DonorProcess.start(DonorSettings.defaults("demo-" + (i + 1)).withCapacity("512m")
                    .withCluster(members.toString(), hazelcastPorts[i]).with("pagepool.cluster.name", cluster),
                    Duration.ofSeconds(60));
                started.add(d);
                System.out.println("started " + d);
            }
            try (DonorNodes found = DonorNodes.resolve(null, members.toString(), cluster);
                 PagePoolClient client = found.connect(ClientConfig.of(found.addresses(), "").withConnectionsPerNode(2))) {
                System.out.printf("Hazelcast cluster '%s' at %s: %d donor(s) found%n", cluster, members, found.addresses().size());
                PoolRef persistent = client.newPool(PoolSpec.privatePool(true));
                System.out.printf("persistent pool keeps %d cop%s of every page%n", persistent.replicas(),
                    persistent.replicas() == 1 ? "y" : "ies");
                LoadResult r = new PageLoad(client, persistent, "persistent", 0.5).run(pages, 64, 2, true, n -> { });
                System.out.printf("persistent pool: %,d pages put at %,.0f pages/s (p99 %d us per 64-page request), "
                        + "got back at %,.0f pages/s (p99 %d us); %,d identical, %,d mismatches, %,d missing, %,d rejected%n",
                    r.pages(), r.putsPerSecond(), r.p99UsPut(), r.getsPerSecond(), r.p99UsGet(), r.verified(),
                    r.mismatches(), r.missing(), r.rejected());
                // A rejected put is allowed (the client keeps the page elsewhere), but a workload of nothing but
                // rejected puts stored nothing, and then "every stored page reads back" would check nothing.
                check(r.verified() > 0, "the donors stored the persistent workload (" + r.verified() + " of "
                    + r.pages() + " pages acknowledged)");
                check(r.mismatches() == 0 && r.missing() == 0 && r.verified() + r.rejected() == r.pages(),
                    "every acknowledged persistent page reads back byte for byte");
                tmemRules(client);
                DemoExport.run(client, new DemoExport.Checks() {
                    @Override
                    public void check(boolean ok, String rule) {
                        DemoCommand.this.check(ok, rule);
                    }

                    @Override
                    public void skip(String rule, String why) {
                        DemoCommand.this.skip(rule, why);
                    }
                });
                for (int d = 0; d < client.donorIndexLimit(); d++) {
                    Map<String, Long> s = client.stats(d);
                    long pagesStored = s.get("pages");
                    double ratio = s.get("stored_bytes") == 0 ? 1 : (double) pagesStored * 4096 / Math.max(1, s.get("stored_bytes"));
                    System.out.printf("donor %s: %,d pages in %.1f MiB of slabs, compression %.2fx, %,d same-filled, "
                            + "metadata %.1f bytes/page%n", client.donorName(d), pagesStored, s.get("used_bytes") / 1048576.0,
                        ratio, s.get("same_filled_pages"), pagesStored == 0 ? 0 : (double) s.get("metadata_bytes") / pagesStored);
                }
                client.destroyPool(persistent);
            }
            if (keep) {
                System.out.println("donors keep running; Ctrl-C stops them");
                CountDownLatch forever = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> started.forEach(DonorProcess::stop)));
                forever.await();
            }
        } finally {
            for (DonorProcess d : started) {
                d.stop();
            }
        }
        if (failures.isEmpty()) {
            System.out.println("demo passed: every check held" + (skipped.isEmpty() ? ""
                : "; not run here: " + String.join("; ", skipped)));
            return 0;
        }
        System.out.println("demo FAILED: " + String.join("; ", failures));
        return 1;
    }

    /** The tmem rules a user relies on, shown on the live donors. */
    private void tmemRules(PagePoolClient client) {
        PageContent content = new PageContent(0.3);
        byte[] page = new byte[Frame.PAGE_BYTES];
        byte[] got = new byte[Frame.PAGE_BYTES];
        PoolRef ephemeral = client.newPool(PoolSpec.privatePool(false));
        int n = 256;
        long[] objects = new long[n];
        int[] indexes = new int[n];
        byte[] data = new byte[n * Frame.PAGE_BYTES];
        for (int i = 0; i < n; i++) {
            objects[i] = 100 + i % 4;
            indexes[i] = i;
            content.fill(objects[i], i, data, i * Frame.PAGE_BYTES);
        }
        client.putBatch(ephemeral, objects, indexes, data, n);
        // An ephemeral put may be dropped at any time, so count what is really there before flushing: a flush of
        // an object that holds nothing would make "every page misses" hold without proving anything.
        int storedBefore = 0;
        for (int i = 0; i < n; i += 4) {
            storedBefore += client.get(ephemeral, 100, i, false, got) == PageStatus.OK ? 1 : 0;
        }
        check(storedBefore > 0, "the ephemeral pool stored pages of object 100 (" + storedBefore + " of " + n / 4
            + " readable before the flush)");
        long removed = client.flushObject(ephemeral, 100);
        int stillThere = 0;
        for (int i = 0; i < n; i += 4) {
            stillThere += client.get(ephemeral, 100, i, false, got) == PageStatus.OK ? 1 : 0;
        }
        System.out.printf("ephemeral pool: flush_object removed %d pages of object 100; %d of them still readable%n",
            removed, stillThere);
        check(storedBefore > 0 && removed >= storedBefore && stillThere == 0,
            "flush_object removes the object's pages and makes every one of them miss");

        PoolRef persistent = client.newPool(PoolSpec.privatePool(true));
        content.fill(7, 7, page, 0);
        client.put(persistent, 7, 7, page);
        PageStatus first = client.get(persistent, 7, 7, true, got);
        PageStatus second = client.get(persistent, 7, 7, false, got);
        System.out.printf("exclusive get: first %s, then %s%n", first, second);
        check(first == PageStatus.OK && second == PageStatus.MISS, "an exclusive get flushes the page");
        client.destroyPool(ephemeral);
        client.destroyPool(persistent);
    }

    private void skip(String rule, String why) {
        System.out.println("  skip " + rule + ": " + why);
        skipped.add(rule);
    }

    private void check(boolean ok, String rule) {
        System.out.println((ok ? "  ok   " : "  FAIL ") + rule);
        if (!ok) {
            failures.add(rule);
        }
    }
}
