package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.bench.PageContent;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.BadSecretException;
import dev.pagepool.client.NoSuchPoolException;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** tmem's rules (DESIGN.md), each checked against a packaged donor process through the Java client. */
class TmemRulesTest {
    private static final String TOKEN = "e2e-secret";
    private static final int P = 4096;
    private static DonorProcess donor;
    private static PagePoolClient client;
    private final PageContent content = new PageContent(0.5);

    @BeforeAll
    static void start() {
        donor = Donors.start("tmem", TOKEN, "64m");
        client = PagePoolClient.connect(config(1));
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (donor != null) {
            donor.stop();
        }
    }

    private static ClientConfig config(long clientId) {
        return ClientConfig.of(List.of(donor.dataAddress()), TOKEN).withClientId(clientId);
    }

    private byte[] page(long object, int index) {
        byte[] b = new byte[P];
        content.fill(object, index, b, 0);
        return b;
    }

    private void setCapacity(long bytes) throws Exception {
        assertEquals(200, Donors.http(donor, "PUT", "/admin/capacity", Donors.adminToken(TOKEN), "{\"bytes\": " + bytes + "}").statusCode());
    }

    @Test
    void putAfterRejectedPutNeverReturnsOldData() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        assertEquals(PageStatus.OK, client.put(pool, 1, 1, page(1, 1)));
        setCapacity(0);
        try {
            assertEquals(PageStatus.REJECTED, client.put(pool, 1, 1, page(2, 2)));
            byte[] got = new byte[P];
            assertEquals(PageStatus.MISS, client.get(pool, 1, 1, false, got), "D1 must not come back after D2 was rejected");
        } finally {
            setCapacity(64L << 20);
        }
        assertEquals(PageStatus.OK, client.put(pool, 1, 1, page(3, 3)), "puts are accepted again after the budget returns");
        client.destroyPool(pool);
    }

    @Test
    void getThatMissedKeepsMissingUntilANewPut() {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        byte[] got = new byte[P];
        assertEquals(PageStatus.MISS, client.get(pool, 5, 5, false, got));
        assertEquals(PageStatus.MISS, client.get(pool, 5, 5, false, got));
        client.put(pool, 5, 5, page(5, 5));
        assertEquals(PageStatus.OK, client.get(pool, 5, 5, false, got));
        assertArrayEquals(page(5, 5), got);
        client.destroyPool(pool);
    }

    @Test
    void exclusiveGetReturnsThePageOnceAndFlushesIt() {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        client.put(pool, 9, 1, page(9, 1));
        byte[] got = new byte[P];
        assertEquals(PageStatus.OK, client.get(pool, 9, 1, true, got));
        assertArrayEquals(page(9, 1), got);
        assertEquals(PageStatus.MISS, client.get(pool, 9, 1, false, got));
        client.destroyPool(pool);
    }

    @Test
    void flushPageAndFlushObjectMakeLaterGetsMiss() {
        PoolRef pool = client.newPool(PoolSpec.privatePool(false));
        int n = 200;
        long[] objects = new long[n];
        int[] indexes = new int[n];
        byte[] data = new byte[n * P];
        for (int i = 0; i < n; i++) {
            objects[i] = i % 2 == 0 ? 10 : 11;
            indexes[i] = i;
            content.fill(objects[i], i, data, i * P);
        }
        for (PageStatus s : client.putBatch(pool, objects, indexes, data, n)) {
            assertEquals(PageStatus.OK, s);
        }
        assertTrue(client.flushPage(pool, 11, 1));
        assertEquals(100, client.flushObject(pool, 10));
        byte[] got = new byte[n * P];
        PageStatus[] st = client.getBatch(pool, objects, indexes, n, false, got);
        for (int i = 0; i < n; i++) {
            if (objects[i] == 10 || i == 1) {
                assertEquals(PageStatus.MISS, st[i], "flushed page " + i);
            } else {
                assertEquals(PageStatus.OK, st[i], "page " + i + " of the other object");
                assertArrayEquals(page(11, i), java.util.Arrays.copyOfRange(got, i * P, (i + 1) * P));
            }
        }
        client.destroyPool(pool);
    }

    private static final int VECTOR = 256;

    /** Puts pages 0..n of {@code object} in vectors of 256; returns each page's status. */
    private PageStatus[] putPages(PoolRef pool, long object, int n) {
        PageStatus[] all = new PageStatus[n];
        long[] objects = new long[VECTOR];
        java.util.Arrays.fill(objects, object);
        int[] indexes = new int[VECTOR];
        byte[] data = new byte[VECTOR * P];
        for (int start = 0; start < n; start += VECTOR) {
            int k = Math.min(VECTOR, n - start);
            for (int i = 0; i < k; i++) {
                indexes[i] = start + i;
                content.fill(object, start + i, data, i * P);
            }
            System.arraycopy(client.putBatch(pool, objects, indexes, data, k), 0, all, start, k);
        }
        return all;
    }

    @FunctionalInterface
    private interface PageCheck {
        /** {@code intact}: the bytes read are the ones put (false on a miss). */
        void page(int index, PageStatus status, boolean intact);
    }

    /** Gets pages 0..n of {@code object} in vectors of 256 and hands each to {@code check}. */
    private void getPages(PoolRef pool, long object, int n, PageCheck check) {
        long[] objects = new long[VECTOR];
        java.util.Arrays.fill(objects, object);
        int[] indexes = new int[VECTOR];
        byte[] data = new byte[VECTOR * P];
        byte[] expected = new byte[P];
        for (int start = 0; start < n; start += VECTOR) {
            int k = Math.min(VECTOR, n - start);
            for (int i = 0; i < k; i++) {
                indexes[i] = start + i;
            }
            PageStatus[] st = client.getBatch(pool, objects, indexes, k, false, data);
            for (int i = 0; i < k; i++) {
                check.page(start + i, st[i],
                    st[i] == PageStatus.OK && content.matches(object, start + i, data, i * P, expected));
            }
        }
    }

    @Test
    void persistentPagesNeverMissWhileUnderCapacity() {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        int n = 8000; // 32 MiB raw in a 64 MiB donor
        for (PageStatus s : putPages(pool, 42, n)) {
            assertEquals(PageStatus.OK, s);
        }
        getPages(pool, 42, n, (index, status, intact) -> {
            assertEquals(PageStatus.OK, status, "persistent page " + index);
            assertTrue(intact, "persistent page " + index + " byte for byte");
        });
        client.destroyPool(pool);
    }

    @Test
    void ephemeralPagesEitherHitWithTheirBytesOrMissWhenOverflowing() {
        PoolRef pool = client.newPool(PoolSpec.privatePool(false));
        int n = 40_000; // ~80 MiB of half-compressible pages into a 64 MiB budget
        putPages(pool, 7, n);
        int[] hitsAndMisses = new int[2];
        getPages(pool, 7, n, (index, status, intact) -> {
            if (status == PageStatus.OK) {
                hitsAndMisses[0]++;
                assertTrue(intact, "ephemeral hit " + index);
            } else {
                hitsAndMisses[1]++;
            }
        });
        assertTrue(hitsAndMisses[1] > 0, "a budget smaller than the data must have evicted some pages");
        assertTrue(hitsAndMisses[0] > n / 2, "most of the budget holds pages: " + hitsAndMisses[0] + " hits");
        client.destroyPool(pool);
    }

    @Test
    void sharedPoolIsJoinedOnlyWithItsUuidAndGetsAreNonDestructive() throws Exception {
        UUID secret = UUID.randomUUID();
        PoolRef shared = client.newPool(PoolSpec.sharedPool(false, secret));
        client.put(shared, 3, 3, page(3, 3));
        try (RawConnection stranger = new RawConnection(donor.dataAddress())) {
            stranger.authenticate(2, TOKEN);
            ByteBuf get = Unpooled.buffer();
            FrameWriter.vector(get, Opcode.GET, 0, 2, shared.idOn(0), 1);
            FrameWriter.keyEntry(get, 3, 3);
            stranger.send(get);
            assertEquals(Status.BAD_SECRET, stranger.next().header().status(), "using a shared pool's id without its UUID");
        }
        try (PagePoolClient other = PagePoolClient.connect(config(2))) {
            byte[] got = new byte[P];
            PoolRef wrong = other.newPool(PoolSpec.sharedPool(false, UUID.randomUUID()));
            assertEquals(PageStatus.MISS, other.get(wrong, 3, 3, false, got), "a wrong UUID is another pool");
            PoolRef joined = other.newPool(PoolSpec.sharedPool(false, secret));
            assertEquals(shared.idOn(0), joined.idOn(0));
            assertEquals(PageStatus.OK, other.get(joined, 3, 3, true, got));
            assertArrayEquals(page(3, 3), got);
            assertEquals(PageStatus.OK, client.get(shared, 3, 3, false, got), "a get from a shared pool never removes the page");
        }
        client.destroyPool(shared);
    }

    @Test
    void anotherClientsPrivatePoolIsClosedToYou() {
        PoolRef mine = client.newPool(PoolSpec.privatePool(true));
        client.put(mine, 1, 1, page(1, 1));
        try (PagePoolClient other = PagePoolClient.connect(config(3))) {
            BadSecretException e = assertThrows(BadSecretException.class, () -> other.get(mine, 1, 1, false, new byte[P]));
            assertTrue(e.getMessage().contains("did not prove its secret"), e.getMessage());
        }
        client.destroyPool(mine);
        assertThrows(NoSuchPoolException.class, () -> client.get(mine, 1, 1, false, new byte[P]),
            "a destroyed pool is gone");
    }

    @Test
    void singlePageCallsFromManyThreadsAreCoalescedIntoVectors() throws Exception {
        PoolRef pool = client.newPool(PoolSpec.privatePool(true));
        long putsBefore = client.stats(0).get("puts");
        long putFramesBefore = putFrames();
        int threads = 8;
        int perThread = 500;
        Thread[] ts = new Thread[threads];
        java.util.concurrent.atomic.AtomicInteger bad = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            ts[t] = new Thread(() -> {
                byte[] got = new byte[P];
                for (int i = 0; i < perThread; i++) {
                    if (client.put(pool, 100 + thread, i, page(100 + thread, i)) != PageStatus.OK
                        || client.get(pool, 100 + thread, i, false, got) != PageStatus.OK
                        || !java.util.Arrays.equals(got, page(100 + thread, i))) {
                        bad.incrementAndGet();
                    }
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join(60_000);
            assertFalse(t.isAlive(), "a putting thread did not finish within 60 s");
        }
        assertEquals(0, bad.get());
        assertEquals(threads * perThread, client.stats(0).get("puts") - putsBefore);
        long frames = putFrames() - putFramesBefore;
        assertTrue(frames > 0 && frames < threads * perThread,
            threads * perThread + " single puts went out as " + frames + " frames");
        client.destroyPool(pool);
    }

    /** PUT frames the donor has served, from its Prometheus timer (registered at start, so always there). */
    private static long putFrames() throws Exception {
        String metrics = Donors.http(donor, "GET", "/q/metrics", null, null).body();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("pagepool_request_seconds_count{") && line.contains("op=\"put\"")) {
                return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no pagepool_request_seconds_count{op=\"put\"} line in the donor's /q/metrics");
    }
}
