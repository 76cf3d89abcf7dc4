package dev.pagepool.e2e;

import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * A workload that knows what every page must hold: persistent pages are rewritten with new versions and read
 * back, ephemeral pages are put and read, and every read is checked byte for byte against the version last
 * acknowledged. A persistent page whose put was rejected must miss (tmem: a rejected put leaves no older version
 * readable). Batch latencies go into a histogram, so a test can say how long operations stalled.
 */
final class VerifiedWorkload {
    static final int BATCH = 64;
    private static final int P = 4096;
    private static final PageContent CONTENT = new PageContent(0);

    record Check(long ok, long wrong, long missing, long lost, long ephemeralHits, long ephemeralMisses) {
        @Override
        public String toString() {
            return "ok=" + ok + " wrong=" + wrong + " missing=" + missing + " lost=" + lost
                + " ephemeral hits/misses=" + ephemeralHits + "/" + ephemeralMisses;
        }
    }

    private final PagePoolClient client;
    private final PoolRef persistent;
    private final PoolRef ephemeral;
    private final int pages;
    private final long object;
    /** The acknowledged version of each persistent page; -1 when the page must miss. */
    private final int[] version;
    private final int[] ephemeralVersion;
    /** Versions handed out per page, so that no two puts of a page ever carry the same bytes. */
    private final int[] written;
    private final SplittableRandom random = new SplittableRandom(42);
    private final byte[] scratch = new byte[P];
    private final Histogram latencyMicros = new Histogram(60_000_000L, 3);
    private long rejected;

    VerifiedWorkload(PagePoolClient client, PoolRef persistent, PoolRef ephemeral, long object, int pages) {
        this.client = client;
        this.persistent = persistent;
        this.ephemeral = ephemeral;
        this.object = object;
        this.pages = pages;
        this.version = new int[pages];
        this.ephemeralVersion = new int[pages];
        this.written = new int[pages];
        java.util.Arrays.fill(version, -1);
        java.util.Arrays.fill(ephemeralVersion, -1);
    }

    /**
     * The bytes of one version of a page: {@link PageContent}'s page for a key that folds in the version and the
     * pool kind, so no two puts of a page ever carry the same bytes.
     */
    private static long key(long object, int version, boolean ephemeral) {
        return ((long) version << 32) | (object << 1) | (ephemeral ? 1 : 0);
    }

    /** Puts every page once, in order. */
    void fill() {
        for (int start = 0; start < pages; start += BATCH) {
            int n = Math.min(BATCH, pages - start);
            int[] idx = new int[n];
            for (int j = 0; j < n; j++) {
                idx[j] = start + j;
            }
            put(idx, n);
            if (ephemeral != null) {
                putEphemeral(idx, n);
            }
        }
    }

    /** One round: rewrite a random batch, read a random batch and check it; the same for ephemeral pages. */
    void round() {
        int[] idx = randomIndexes();
        put(idx, BATCH);
        idx = randomIndexes();
        Check c = read(idx, BATCH);
        if (c.wrong() + c.missing() + c.lost() > 0) {
            throw new AssertionError("a read during the workload returned bad data: " + c);
        }
        if (ephemeral != null) {
            idx = randomIndexes();
            putEphemeral(idx, BATCH);
            Check e = readEphemeral(randomIndexes(), BATCH);
            if (e.wrong() > 0) {
                throw new AssertionError("an ephemeral read returned wrong data: " + e);
            }
        }
    }

    /** Runs rounds until {@code millis} have passed or {@code maxRounds} ran. */
    int run(long millis, int maxRounds) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        int rounds = 0;
        while (rounds < maxRounds && System.nanoTime() < deadline) {
            round();
            rounds++;
        }
        return rounds;
    }

    /** Reads every persistent page and every ephemeral page and checks them. */
    Check verifyAll() {
        long ok = 0, wrong = 0, missing = 0, lost = 0, eh = 0, em = 0;
        for (int start = 0; start < pages; start += BATCH) {
            int n = Math.min(BATCH, pages - start);
            int[] idx = new int[n];
            for (int j = 0; j < n; j++) {
                idx[j] = start + j;
            }
            Check c = read(idx, n);
            ok += c.ok();
            wrong += c.wrong();
            missing += c.missing();
            lost += c.lost();
            if (ephemeral != null) {
                Check e = readEphemeral(idx, n);
                wrong += e.wrong();
                eh += e.ephemeralHits();
                em += e.ephemeralMisses();
            }
        }
        return new Check(ok, wrong, missing, lost, eh, em);
    }

    Histogram latencyMicros() {
        return latencyMicros;
    }

    long rejected() {
        return rejected;
    }

    void resetLatencies() {
        latencyMicros.reset();
    }

    private int[] randomIndexes() {
        int[] idx = new int[BATCH];
        int base = random.nextInt(pages);
        for (int j = 0; j < BATCH; j++) {
            // Half sequential runs (whole extents), half scattered pages.
            idx[j] = j % 2 == 0 ? (base + j) % pages : random.nextInt(pages);
        }
        // A batch must not name a page twice: its two outcomes would race.
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int j = 0; j < idx.length; j++) {
            while (!seen.add(idx[j])) {
                idx[j] = (idx[j] + 1) % pages;
            }
        }
        return idx;
    }

    private void put(int[] idx, int n) {
        long[] objects = new long[n];
        byte[] data = new byte[n * P];
        int[] next = new int[n];
        for (int j = 0; j < n; j++) {
            idx[j] = idx[j] % pages;
            objects[j] = object;
            next[j] = ++written[idx[j]];
            CONTENT.fill(key(object, next[j], false), idx[j], data, j * P);
        }
        long t0 = System.nanoTime();
        PageStatus[] s = client.putBatch(persistent, objects, idx, data, n);
        latencyMicros.recordValue(Math.min(latencyMicros.getHighestTrackableValue(), (System.nanoTime() - t0) / 1000));
        for (int j = 0; j < n; j++) {
            if (s[j] == PageStatus.OK) {
                version[idx[j]] = next[j];
            } else {
                version[idx[j]] = -1;
                rejected++;
            }
        }
    }

    private void putEphemeral(int[] idx, int n) {
        long[] objects = new long[n];
        byte[] data = new byte[n * P];
        int[] next = new int[n];
        for (int j = 0; j < n; j++) {
            idx[j] = idx[j] % pages;
            objects[j] = object;
            next[j] = ++written[idx[j]];
            CONTENT.fill(key(object, next[j], true), idx[j], data, j * P);
        }
        PageStatus[] s = client.putBatch(ephemeral, objects, idx, data, n);
        for (int j = 0; j < n; j++) {
            ephemeralVersion[idx[j]] = s[j] == PageStatus.OK ? next[j] : -1;
        }
    }

    private Check read(int[] idx, int n) {
        long[] objects = new long[n];
        for (int j = 0; j < n; j++) {
            idx[j] = idx[j] % pages;
            objects[j] = object;
        }
        byte[] dst = new byte[n * P];
        long t0 = System.nanoTime();
        PageStatus[] s = client.getBatch(persistent, objects, idx, n, false, dst);
        latencyMicros.recordValue(Math.min(latencyMicros.getHighestTrackableValue(), (System.nanoTime() - t0) / 1000));
        long ok = 0, wrong = 0, missing = 0, lost = 0;
        for (int j = 0; j < n; j++) {
            int v = version[idx[j]];
            switch (s[j]) {
                case OK -> {
                    if (v >= 0 && CONTENT.matches(key(object, v, false), idx[j], dst, j * P, scratch)) {
                        ok++;
                    } else {
                        wrong++;
                    }
                }
                case MISS -> missing += v >= 0 ? 1 : 0;
                case LOST -> lost += v >= 0 ? 1 : 0;
                default -> wrong++;
            }
        }
        return new Check(ok, wrong, missing, lost, 0, 0);
    }

    private Check readEphemeral(int[] idx, int n) {
        long[] objects = new long[n];
        for (int j = 0; j < n; j++) {
            idx[j] = idx[j] % pages;
            objects[j] = object;
        }
        byte[] dst = new byte[n * P];
        PageStatus[] s = client.getBatch(ephemeral, objects, idx, n, false, dst);
        long wrong = 0, hits = 0, misses = 0;
        for (int j = 0; j < n; j++) {
            int v = ephemeralVersion[idx[j]];
            if (s[j] == PageStatus.OK) {
                boolean right = v >= 0 && CONTENT.matches(key(object, v, true), idx[j], dst, j * P, scratch);
                wrong += right ? 0 : 1;
                hits++;
            } else {
                misses++;
            }
        }
        return new Check(0, wrong, 0, 0, hits, misses);
    }
}
