package dev.pagepool.node.handback;

import static dev.pagepool.node.handback.AdminCalls.capacity;
import static dev.pagepool.node.handback.AdminCalls.stat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.handback.RawClient.HandedBackPage;
import dev.pagepool.node.handback.RawClient.Handback;
import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.net.DataServer;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An owner that connects, stores pages and then never reads again, while the donor hands pages back: its
 * unread frames hold reserve buffers until its connection closes, so it must not be sent more than the one that
 * found its socket's queue empty, and the other owners keep getting their hand-backs from the rest of the share.
 */
@QuarkusTest
@TestProfile(HandbackBackPressureProfile.class)
class StalledOwnerTest {
    private static final long CAPACITY = 64L * 1024 * 1024;
    /** The hand-back's share of the profile's reserve: a quarter of its frame-sized buffers. */
    private static final int HANDBACK_FRAMES = 5;
    private static final int STALLED_PAGES = 20 * Frame.MAX_HANDBACK_PAGES;
    private static final int READER_PAGES = 2 * Frame.MAX_HANDBACK_PAGES;
    /**
     * Ten ack timeouts and back-offs of the profile, two frames offered each: the kernel takes the first 2 MiB or so
     * (the donor's 1 MiB send buffer, doubled), about 8 frames; only the frames after those wait in the reserve.
     */
    private static final long STALL_MILLIS = 20_000;

    @Inject
    DataServer server;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void anOwnerThatStopsReadingHoldsOneFrameAndTheOthersKeepGettingTheirs() throws Exception {
        long timeoutsBefore = stat("handback_timeouts");
        int stalledPool;
        int readerPool;
        try (RawClient stalled = new RawClient(server.port(), 4096)) {
            stalled.hello(3001);
            stalledPool = stalled.newPool(true);
            for (int b = 0; b < STALLED_PAGES / Frame.MAX_HANDBACK_PAGES; b++) {
                stalled.put(stalledPool, 1, b * Frame.MAX_HANDBACK_PAGES, RandomPages.of(Frame.MAX_HANDBACK_PAGES, b));
            }
            // Connected only now: a connection must say HELLO within the hello timeout.
            RawClient reader = new RawClient(server.port());
            reader.hello(3002);
            readerPool = reader.newPool(true);
            for (int b = 0; b < READER_PAGES / Frame.MAX_HANDBACK_PAGES; b++) {
                reader.put(readerPool, 2, b * Frame.MAX_HANDBACK_PAGES, RandomPages.of(Frame.MAX_HANDBACK_PAGES, 100 + b));
            }
            long idleUsed = stat("reserve_used_bytes");
            try {
                capacity(0); // far below use: every persistent page is to go back
                long bound = idleUsed + (long) HANDBACK_FRAMES * BufferReserve.LARGE_BUFFER_BYTES
                    + 2L * BufferReserve.SMALL_BUFFER_BYTES;
                long maxUsed = 0;
                int refusedFrames = 0;
                // The stalled owner never reads from here on. The reader refuses what it gets during the stall (the
                // pages stay and are offered again after the back-off), so it is offered frames all along.
                long stallEnd = System.currentTimeMillis() + STALL_MILLIS;
                while (System.currentTimeMillis() < stallEnd) {
                    Handback h = reader.nextHandback(5000);
                    assertNotNull(h, "the reader gets hand-backs while the other owner stalls (after " + refusedFrames
                        + " frames, reserve " + stat("reserve_used_bytes") + " bytes used)");
                    assertEquals(readerPool, h.pool());
                    int[] refuse = new int[h.pages().length];
                    Arrays.fill(refuse, Status.PAGE_REJECTED);
                    reader.answer(h, refuse);
                    refusedFrames++;
                    maxUsed = Math.max(maxUsed, stat("reserve_used_bytes"));
                }
                // Then it takes them all.
                Set<Integer> held = new HashSet<>();
                while (held.size() < READER_PAGES) {
                    Handback h = reader.nextHandback(5000);
                    assertNotNull(h, "the reader's pages keep coming back: " + held.size() + " of " + READER_PAGES);
                    int[] ok = new int[h.pages().length];
                    Arrays.fill(ok, Status.PAGE_OK);
                    reader.answer(h, ok);
                    for (HandedBackPage page : h.pages()) {
                        held.add(page.index());
                    }
                    maxUsed = Math.max(maxUsed, stat("reserve_used_bytes"));
                }
                assertTrue(stat("handback_timeouts") > timeoutsBefore, "the stalled owner was sent a frame it never answered");
                assertTrue(maxUsed <= bound, "the reserve in use peaked at " + maxUsed + " bytes, more than the "
                    + HANDBACK_FRAMES + " hand-back frames of the share (" + bound + " bytes with what was in use before)");
            } finally {
                capacity(CAPACITY);
                reader.close();
            }
        }
        for (long[] owner : new long[][] {{3001, stalledPool}, {3002, readerPool}}) {
            try (RawClient cleaner = new RawClient(server.port())) {
                cleaner.hello(owner[0]);
                cleaner.destroyPool((int) owner[1]);
            }
        }
    }

}
