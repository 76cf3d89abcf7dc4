package dev.pagepool.agent.swap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.EventLoopGuard;
import dev.pagepool.client.FakeDonor;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.protocol.Opcode;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random interleavings of writes, zero writes, trims, reads, hand-backs and dropped donor connections against a
 * model of the device: every read returns the slot's last acknowledged write (zeros if it was trimmed or never
 * written), never an older version; a read may fail only for a slot the cluster reports lost.
 *
 * <p>Each seed fixes the sequence of operations; the fake donors answer each request at once, apply it and
 * delay the reply, or hold it unapplied, and a releaser thread lets held requests go oldest or newest first, so
 * replies and hand-backs arrive in orders the whole-process tests never produce.
 */
class SwapStoreInterleavingsTest {
    private static final int BLOCK = 4096;
    private static final int SLOTS = 24;
    private static final int OPERATIONS = 400;

    @TempDir
    Path dir;

    /** A donor told to drop its connections, and how many HELLOs it had seen then. */
    private record Drop(FakeDonor fake, int hellosBefore) {
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void everyReadReturnsTheLastAcknowledgedWriteOrAnErrorForALostSlot(long seed) throws Exception {
        Random random = new Random(seed);
        try (EventLoopGuard guard = new EventLoopGuard()) {
            List<FakeDonor> fakes = new ArrayList<>();
            List<InetSocketAddress> nodes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                FakeDonor fake = new FakeDonor(guard.vertx(), "fake-" + i);
                Random own = new Random(seed * 31 + i);
                fake.script((h, b) -> {
                    int roll;
                    synchronized (own) {
                        roll = own.nextInt(10);
                    }
                    return roll < 7 ? FakeDonor.Action.SERVE : roll < 9 ? FakeDonor.Action.DELAY_REPLY : FakeDonor.Action.HOLD;
                });
                fakes.add(fake);
                nodes.add(fake.address());
            }
            guard.warmUp(nodes.get(0));
            AtomicBoolean running = new AtomicBoolean(true);
            Thread releaser = new Thread(() -> {
                Random r = new Random(seed);
                while (running.get()) {
                    FakeDonor fake = fakes.get(r.nextInt(fakes.size()));
                    if (r.nextBoolean()) {
                        fake.releaseHeld();
                    } else {
                        fake.releaseHeldNewestFirst();
                    }
                    try {
                        Thread.sleep(1 + r.nextInt(3));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "releaser");
            releaser.start();
            try (PagePoolClient client = PagePoolClient.connect(new ClientConfig(nodes, "", seed, 1, 64, Duration.ofSeconds(2),
                     Duration.ofSeconds(2), Duration.ofSeconds(20)), guard.vertx());
                 SwapStore swap = SwapStore.open(client, (long) SLOTS * BLOCK, dir.resolve("swap-" + seed), 2)) {
                run(random, fakes, client, swap);
            } finally {
                running.set(false);
                releaser.join(5000);
                for (FakeDonor fake : fakes) {
                    fake.releaseHeld();
                    fake.close();
                }
            }
            guard.assertNoEventLoopBlocked();
        }
    }

    private void run(Random random, List<FakeDonor> fakes, PagePoolClient client, SwapStore swap) throws Exception {
        int[] model = new int[SLOTS]; // 0: zeros; v > 0: page(slot, v)
        int version = 0;
        List<ByteBuf> handBacksOnTheirWay = new ArrayList<>();
        List<FakeDonor> handBackSenders = new ArrayList<>();
        int handBacksSent = 0;
        List<Drop> drops = new ArrayList<>();
        int lostReads = 0;
        for (int op = 0; op < OPERATIONS; op++) {
            // A round of one to three writes and trims issued at once (they may overlap), then awaited.
            List<CompletableFuture<Void>> round = new ArrayList<>();
            int issued = 1 + random.nextInt(3);
            for (int k = 0; k < issued; k++) {
                int slot = random.nextInt(SLOTS - 1);
                int count = 1 + random.nextInt(2);
                int kind = random.nextInt(10);
                if (kind < 7) {
                    byte[] src = new byte[count * BLOCK];
                    for (int j = 0; j < count; j++) {
                        version++;
                        fill(src, j * BLOCK, slot + j, version);
                        model[slot + j] = version;
                    }
                    round.add(swap.write(slot, count, src, 0));
                } else if (kind < 8) {
                    for (int j = 0; j < count; j++) {
                        model[slot + j] = 0;
                    }
                    round.add(swap.write(slot, count, new byte[count * BLOCK], 0));
                } else {
                    for (int j = 0; j < count; j++) {
                        model[slot + j] = 0;
                    }
                    round.add(swap.trim(slot, count));
                }
            }
            // A donor composes a hand-back now; it arrives some rounds later, whatever was written meanwhile.
            if (random.nextInt(4) == 0) {
                FakeDonor fake = fakes.get(random.nextInt(fakes.size()));
                int slot = random.nextInt(SLOTS);
                for (int d = 0; d < client.donorCount(); d++) {
                    int pool = swap.pool().idOn(d);
                    // The round's writes and trims are under way: the page may go between a look and the composing.
                    ByteBuf frame = client.donorName(d).equals(fakeName(fakes, fake)) && pool >= 0
                        ? fake.handbackFrameIfHeld(pool, SwapStore.OBJECT, slot) : null;
                    if (frame != null) {
                        handBacksOnTheirWay.add(frame);
                        handBackSenders.add(fake);
                    }
                }
            }
            if (!handBacksOnTheirWay.isEmpty() && random.nextInt(3) == 0) {
                int pick = random.nextInt(handBacksOnTheirWay.size());
                handBackSenders.remove(pick).send(handBacksOnTheirWay.remove(pick));
                handBacksSent++;
            }
            // Now and then a donor drops its connections (its requests in flight fail), once the copies are whole.
            if (random.nextInt(60) == 0 && client.underReplicatedExtents() == 0) {
                // Among the donors the store writes to: dropping the idle connections of one that holds none of its
                // copies changes nothing, and the client need not connect to it again.
                List<FakeDonor> holding = fakes.stream().filter(f -> f.requests(Opcode.PUT) > 0).toList();
                FakeDonor fake = holding.get(random.nextInt(holding.size()));
                drops.add(new Drop(fake, fake.requests(Opcode.HELLO)));
                fake.dropConnections();
            }
            for (CompletableFuture<Void> f : round) {
                f.get(30, TimeUnit.SECONDS);
            }
            // Reads after the round: the model is exact for them.
            for (int k = 0; k < 2; k++) {
                int slot = random.nextInt(SLOTS);
                byte[] dst = new byte[BLOCK];
                try {
                    swap.read(slot, 1, dst, 0).get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    assertTrue(swap.counters().lost() > 0, "a read fails only for a lost slot: " + e.getCause());
                    lostReads++;
                    continue;
                }
                byte[] expected = new byte[BLOCK];
                if (model[slot] > 0) {
                    fill(expected, 0, slot, model[slot]);
                }
                assertArrayEquals(expected, dst, "slot " + slot + " after operation " + op + " reads its last write (version "
                    + model[slot] + ")");
            }
        }
        // The interleavings the test is about happened in this seed's run: hand-backs the client answered, and a
        // drop that cut connections the client was using, so that it connected again (a donor holding none of the
        // store's copies is not asked, and dropping its idle connections changes nothing).
        assertTrue(handBacksSent > 0, "no hand-back was sent");
        Await.until(() -> fakes.stream().mapToInt(f -> f.handbackAnswers().size()).sum() > 0,
            "the client answered some of the " + handBacksSent + " hand-backs");
        Await.until(() -> drops.stream().anyMatch(drop -> drop.fake().requests(Opcode.HELLO) > drop.hellosBefore()),
            "the client connected again after one of the " + drops.size() + " drops");
        assertEquals(0, lostReads, "no slot was lost: one donor at a time dropped its connections, with two copies");
    }

    private static String fakeName(List<FakeDonor> fakes, FakeDonor fake) {
        return "fake-" + fakes.indexOf(fake);
    }

    /** A page naming its slot and version: part repetitive, part pseudo-random. */
    private static void fill(byte[] dst, int at, int slot, int version) {
        long x = slot * 0x9E3779B97F4A7C15L + version;
        for (int i = 0; i < BLOCK; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            dst[at + i] = i < BLOCK / 2 ? (byte) (slot + version) : (byte) x;
        }
    }
}
