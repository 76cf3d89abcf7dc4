package dev.pagepool.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The wire protocol byte by byte with a raw socket: malformed handshakes and requests get the spec's answer
 * and never take the server down; after each test a fresh nbdinfo must still work.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NbdProtocolTest {
    private static final int BLOCKS = 256;
    private static final long SIZE = BLOCKS * 4096L;
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

    private void serve(MemoryBlockDevice d, long reserve) {
        device = d;
        server = new NbdServer(vertx, d, "pagepool", "127.0.0.1", 0, reserve);
        server.start();
    }

    private void serve() {
        serve(new MemoryBlockDevice(BLOCKS), NbdServer.DEFAULT_RESERVE_BYTES);
    }

    @AfterEach
    void serverStillServes() {
        try {
            if (server != null) {
                ToolRun.requireTool("nbdinfo");
                ToolRun run = ToolRun.run(60, "nbdinfo", "nbd://127.0.0.1:" + server.port() + "/pagepool").ok();
                assertTrue(run.output().contains("export-size: " + server.sizeBytes()), run.output());
            }
        } finally {
            if (server != null) {
                server.close();
            }
            if (device != null) {
                device.close();
            }
        }
    }

    private RawNbdClient client() throws IOException {
        return new RawNbdClient(server.port());
    }

    // ---- handshake ----

    @Test
    void wrongOptionMagicCloses() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            c.optionHeader(0x1122334455667788L, Nbd.NBD_OPT_GO, 0);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void unknownClientFlagsClose() throws IOException {
        serve();
        try (RawNbdClient c = client().greet(1 << 5)) {
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void unknownOptionsAreUnsupportedAndTheConnectionGoesOn() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            c.option(99, new byte[] {1, 2, 3, 4, 5});
            RawNbdClient.OptionReply r = c.optionReply();
            assertEquals(99, r.option());
            assertEquals(Nbd.NBD_REP_ERR_UNSUP, r.type());
            c.option(Nbd.NBD_OPT_STRUCTURED_REPLY, new byte[0]);
            assertOptionError(c, Nbd.NBD_OPT_STRUCTURED_REPLY, Nbd.NBD_REP_ERR_UNSUP);
            c.option(Nbd.NBD_OPT_STARTTLS, new byte[0]);
            assertOptionError(c, Nbd.NBD_OPT_STARTTLS, Nbd.NBD_REP_ERR_UNSUP);
            c.go();
            device.bytes()[4096] = 42;
            assertEquals(42, c.read(4096, 512)[0]);
        }
    }

    @Test
    void hugeOptionLengthsAreAnsweredWithoutBuffering() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            c.optionHeader(Nbd.IHAVEOPT, Nbd.NBD_OPT_GO, 0xFFFF_FFF0L);
            RawNbdClient.OptionReply r = c.optionReply();
            assertEquals(Nbd.NBD_OPT_GO, r.option());
            assertEquals(Nbd.NBD_REP_ERR_TOO_BIG, r.type());
        }
        try (RawNbdClient c = client().greet()) {
            c.optionHeader(Nbd.IHAVEOPT, 1234, 0x7FFF_FFFFL);
            assertOptionError(c, 1234, Nbd.NBD_REP_ERR_UNSUP);
        }
        try (RawNbdClient c = client().greet()) {
            c.optionHeader(Nbd.IHAVEOPT, Nbd.NBD_OPT_EXPORT_NAME, 1 << 20);
            assertTrue(c.closedByServer(), "an EXPORT_NAME no export can match has no error reply: dropped");
        }
    }

    @Test
    void anOversizedOptionIsSkippedAndTheSessionContinues() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            byte[] big = new byte[100_000];
            c.option(Nbd.NBD_OPT_INFO, big);
            assertOptionError(c, Nbd.NBD_OPT_INFO, Nbd.NBD_REP_ERR_TOO_BIG);
            c.option(Nbd.NBD_OPT_LIST, new byte[3]);
            assertOptionError(c, Nbd.NBD_OPT_LIST, Nbd.NBD_REP_ERR_INVALID);
            c.option(Nbd.NBD_OPT_GO, new byte[] {0, 0, 0, 9, 1}); // name longer than the data
            assertOptionError(c, Nbd.NBD_OPT_GO, Nbd.NBD_REP_ERR_INVALID);
            c.go();
            c.write(0, new byte[512]);
        }
    }

    @Test
    void listInfoAndUnknownExport() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            c.option(Nbd.NBD_OPT_LIST, new byte[0]);
            RawNbdClient.OptionReply server = c.optionReply();
            assertEquals(Nbd.NBD_REP_SERVER, server.type());
            assertEquals("pagepool", new String(server.data(), 4, server.data().length - 4));
            assertEquals(Nbd.NBD_REP_ACK, c.optionReply().type());

            List<RawNbdClient.OptionReply> info = c.infoOrGo(Nbd.NBD_OPT_INFO, "", Nbd.NBD_INFO_NAME);
            assertEquals(Nbd.NBD_REP_ACK, info.get(info.size() - 1).type());
            ByteBuffer export = infoOf(info, Nbd.NBD_INFO_EXPORT);
            assertEquals(SIZE, export.getLong());
            assertEquals(Nbd.TRANSMISSION_FLAGS, export.getShort() & 0xffff);
            ByteBuffer sizes = infoOf(info, Nbd.NBD_INFO_BLOCK_SIZE);
            assertEquals(512, sizes.getInt());
            assertEquals(4096, sizes.getInt());
            assertEquals(this.server.maxPayloadBytes(), sizes.getInt());
            ByteBuffer name = infoOf(info, Nbd.NBD_INFO_NAME);
            assertEquals("pagepool", new String(name.array(), name.position(), name.remaining()));

            List<RawNbdClient.OptionReply> unknown = c.infoOrGo(Nbd.NBD_OPT_GO, "nosuch");
            assertEquals(List.of(Nbd.NBD_REP_ERR_UNKNOWN), unknown.stream().map(RawNbdClient.OptionReply::type).toList());
            c.go();
            c.disconnect();
            assertTrue(c.closedByServer());
        }
    }

    /** The next option reply is the error {@code type} for {@code option}, with no data left unread. */
    private static void assertOptionError(RawNbdClient c, int option, int type) throws IOException {
        RawNbdClient.OptionReply r = c.optionReply();
        assertEquals(option, r.option(), "the reply names the option it answers");
        assertEquals(type, r.type(), "error reply to option " + option);
    }

    private static ByteBuffer infoOf(List<RawNbdClient.OptionReply> replies, int infoType) {
        for (RawNbdClient.OptionReply r : replies) {
            ByteBuffer b = ByteBuffer.wrap(r.data());
            if (r.type() == Nbd.NBD_REP_INFO && b.getShort() == infoType) {
                return b;
            }
        }
        throw new AssertionError("no info " + infoType);
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            c.option(Nbd.NBD_OPT_ABORT, new byte[0]);
            assertEquals(Nbd.NBD_REP_ACK, c.optionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void exportNameHonoursNoZeroes() throws IOException {
        serve();
        try (RawNbdClient c = client().greet(Nbd.NBD_FLAG_C_FIXED_NEWSTYLE)) {
            c.option(Nbd.NBD_OPT_EXPORT_NAME, "pagepool".getBytes());
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(c.readBytes(134)));
            assertEquals(SIZE, in.readLong());
            assertEquals(Nbd.TRANSMISSION_FLAGS, in.readUnsignedShort());
            assertArrayEquals(new byte[124], in.readNBytes(124));
            device.bytes()[0] = 5;
            assertEquals(5, c.read(0, 4096)[0]);
        }
        try (RawNbdClient c = client().greet()) {
            c.option(Nbd.NBD_OPT_EXPORT_NAME, new byte[0]); // the default export
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(c.readBytes(10)));
            assertEquals(SIZE, in.readLong());
            assertEquals(5, c.read(0, 512)[0]);
        }
        try (RawNbdClient c = client().greet()) {
            c.option(Nbd.NBD_OPT_EXPORT_NAME, "nosuch".getBytes());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void everyByteInItsOwnSegment() throws IOException {
        serve();
        try (RawNbdClient c = client().fragment(1).greet()) {
            c.option(77, new byte[] {9, 9, 9});
            assertOptionError(c, 77, Nbd.NBD_REP_ERR_UNSUP);
            c.go();
            c.fragment(3);
            byte[] data = random(5120, 1);
            c.write(1024, data);
            assertArrayEquals(data, c.read(1024, 5120));
            assertArrayEquals(data, Arrays.copyOfRange(device.bytes(), 1024, 6144));
        }
    }

    // ---- transmission ----

    @Test
    void wrongRequestMagicCloses() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            c.requestWithMagic(0x12560953, 0, Nbd.NBD_CMD_READ, 1, 0, 512);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void outOfRangeRequestsGetTheSpecsErrors() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            c.request(0, Nbd.NBD_CMD_READ, 1, SIZE - 4096, 8192, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 1), c.reply());
            c.request(0, Nbd.NBD_CMD_READ, 2, -4096L, 4096, null); // offset 2^64 - 4096
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 2), c.reply());
            c.request(0, Nbd.NBD_CMD_WRITE, 3, SIZE - 512, 1024, new byte[1024]);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_ENOSPC, 3), c.reply());
            c.request(0, Nbd.NBD_CMD_WRITE_ZEROES, 4, SIZE, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_ENOSPC, 4), c.reply());
            c.request(0, Nbd.NBD_CMD_TRIM, 5, SIZE - 4096, 1 << 20, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 5), c.reply());
            byte[] data = random(4096, 2);
            c.write(SIZE - 4096, data);
            assertArrayEquals(data, c.read(SIZE - 4096, 4096), "the connection is still usable");
        }
    }

    @Test
    void malformedRequestsAreInvalid() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            c.request(0, 42, 1, 0, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 1), c.reply(), "unknown command");
            c.request(0, Nbd.NBD_CMD_BLOCK_STATUS, 2, 0, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 2), c.reply(), "block status was not negotiated");
            c.request(0, Nbd.NBD_CMD_CACHE, 3, 0, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 3), c.reply(), "cache was not advertised");
            c.request(Nbd.NBD_CMD_FLAG_DF, Nbd.NBD_CMD_READ, 4, 0, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 4), c.reply(), "DF without structured replies");
            c.request(Nbd.NBD_CMD_FLAG_FAST_ZERO, Nbd.NBD_CMD_WRITE_ZEROES, 5, 0, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 5), c.reply(), "fast zero was not advertised");
            c.request(1 << 12, Nbd.NBD_CMD_WRITE, 6, 0, 512, new byte[512]);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 6), c.reply(), "unknown flag; payload skipped");
            c.request(0, Nbd.NBD_CMD_READ, 7, 0, 0, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 7), c.reply(), "zero length");
            c.request(0, Nbd.NBD_CMD_READ, 8, 100, 512, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 8), c.reply(), "unaligned after agreeing to 512-byte blocks");
            c.request(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_FLUSH, 9, 0, 0, null);
            assertEquals(new RawNbdClient.SimpleReply(0, 9), c.reply());
            c.read(0, 512);
        }
    }

    @Test
    void writesAboveTheMaximumPayloadAreRefusedAndSkipped() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            int tooBig = server.maxPayloadBytes() + 4096;
            c.request(0, Nbd.NBD_CMD_WRITE, 11, 0, tooBig, new byte[tooBig]);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 11), c.reply());
            c.request(0, Nbd.NBD_CMD_READ, 12, 0, tooBig, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EINVAL, 12), c.reply());
            byte[] data = random(512, 3);
            c.write(512, data);
            assertArrayEquals(data, c.read(512, 512));
        }
    }

    @Test
    void byteGranularityWithoutABlockSizeAgreement() throws IOException {
        serve();
        try (RawNbdClient c = client().greet()) {
            List<RawNbdClient.OptionReply> go = c.infoOrGo(Nbd.NBD_OPT_GO, "pagepool");
            assertEquals(Nbd.NBD_REP_ACK, go.get(go.size() - 1).type());
            byte[] before = random(3 * 4096, 4);
            System.arraycopy(before, 0, device.bytes(), 0, before.length);
            byte[] data = random(4999, 5);
            c.write(77, data);
            byte[] expect = before.clone();
            System.arraycopy(data, 0, expect, 77, data.length);
            assertArrayEquals(expect, Arrays.copyOf(device.bytes(), expect.length));
            assertArrayEquals(Arrays.copyOfRange(expect, 3, 8003), c.read(3, 8000));
            c.request(Nbd.NBD_CMD_FLAG_NO_HOLE, Nbd.NBD_CMD_WRITE_ZEROES, 9, 4000, 200, null);
            assertEquals(new RawNbdClient.SimpleReply(0, 9), c.reply());
            Arrays.fill(expect, 4000, 4200, (byte) 0);
            assertArrayEquals(expect, Arrays.copyOf(device.bytes(), expect.length));
        }
    }

    @Test
    void deviceFailuresBecomeEioAndEnospc() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            device.failBlocks(b -> b == 3, false);
            c.request(0, Nbd.NBD_CMD_READ, 1, 2 * 4096, 8192, null);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_EIO, 1), c.reply());
            device.failBlocks(b -> b == 3, true);
            c.request(0, Nbd.NBD_CMD_WRITE, 2, 3 * 4096, 4096, new byte[4096]);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_ENOSPC, 2), c.reply());
            c.request(0, Nbd.NBD_CMD_WRITE, 3, 3 * 4096 + 512, 512, new byte[512]);
            assertEquals(new RawNbdClient.SimpleReply(Nbd.NBD_ENOSPC, 3), c.reply(), "failing read of a RMW");
            device.failBlocks(b -> false, false);
            c.read(3 * 4096, 4096);
        }
    }

    @Test
    void fuaFlushesBeforeTheReply() throws IOException {
        serve();
        try (RawNbdClient c = client().greet().go()) {
            c.request(0, Nbd.NBD_CMD_WRITE, 1, 0, 4096, new byte[4096]);
            assertEquals(new RawNbdClient.SimpleReply(0, 1), c.reply());
            assertEquals(0, device.flushes.get());
            c.request(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_WRITE, 2, 0, 4096, new byte[4096]);
            assertEquals(new RawNbdClient.SimpleReply(0, 2), c.reply());
            assertEquals(1, device.flushes.get());
            c.request(Nbd.NBD_CMD_FLAG_FUA | Nbd.NBD_CMD_FLAG_NO_HOLE, Nbd.NBD_CMD_WRITE_ZEROES, 3, 0, 8192, null);
            assertEquals(new RawNbdClient.SimpleReply(0, 3), c.reply());
            assertEquals(2, device.flushes.get());
            c.request(Nbd.NBD_CMD_FLAG_FUA, Nbd.NBD_CMD_TRIM, 4, 0, 8192, null);
            assertEquals(new RawNbdClient.SimpleReply(0, 4), c.reply());
            assertEquals(3, device.flushes.get());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredOutOfOrderByCookie() throws IOException {
        serve(new MemoryBlockDevice(BLOCKS).async(4, 2000), NbdServer.DEFAULT_RESERVE_BYTES);
        byte[] content = random((int) SIZE, 6);
        System.arraycopy(content, 0, device.bytes(), 0, content.length);
        int n = 500; // well past the in-flight bound: the server must pause, not fail or buffer without end
        try (RawNbdClient c = client().greet().go()) {
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        c.request(0, Nbd.NBD_CMD_READ, 1000 + i, (i % BLOCKS) * 4096L, 4096, null);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            Set<Long> seen = new HashSet<>();
            boolean reordered = false;
            long last = 0;
            byte[] data = new byte[4096];
            for (int i = 0; i < n; i++) {
                RawNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error());
                assertTrue(seen.add(r.cookie()), "one reply per cookie");
                reordered |= r.cookie() < last;
                last = r.cookie();
                c.readFully(data);
                int block = (int) ((r.cookie() - 1000) % BLOCKS);
                assertArrayEquals(Arrays.copyOfRange(content, block * 4096, block * 4096 + 4096), data);
            }
            assertTrue(reordered, "an asynchronous device should finish some requests out of order");
            c.disconnect();
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void concurrentSectorWritesIntoOneBlockAllLand() throws IOException {
        serve(new MemoryBlockDevice(BLOCKS).async(4, 500), NbdServer.DEFAULT_RESERVE_BYTES);
        try (RawNbdClient c = client().greet().go()) {
            for (int round = 0; round < 30; round++) {
                // 8 sectors of block 1 plus zeroes of two sectors in block 2, all pipelined
                for (int s = 0; s < 8; s++) {
                    byte[] sector = new byte[512];
                    Arrays.fill(sector, (byte) (round * 8 + s + 1));
                    c.request(0, Nbd.NBD_CMD_WRITE, s, 4096 + s * 512L, 512, sector);
                }
                byte[] whole = random(4096, round);
                c.request(0, Nbd.NBD_CMD_WRITE, 8, 8192, 4096, whole);
                c.request(Nbd.NBD_CMD_FLAG_NO_HOLE, Nbd.NBD_CMD_WRITE_ZEROES, 9, 8192 + 1024, 512, null);
                c.request(0, Nbd.NBD_CMD_WRITE_ZEROES, 10, 8192 + 3072, 512, null);
                Set<Long> answered = new HashSet<>();
                for (int i = 0; i < 11; i++) {
                    RawNbdClient.SimpleReply r = c.reply();
                    assertEquals(0, r.error(), "round " + round + " request " + r.cookie());
                    answered.add(r.cookie());
                }
                assertEquals(11, answered.size(), "one reply per request");
                byte[] block = c.read(4096, 4096);
                for (int s = 0; s < 8; s++) {
                    for (int b = 0; b < 512; b++) {
                        assertEquals((byte) (round * 8 + s + 1), block[s * 512 + b], "round " + round + " sector " + s);
                    }
                }
                // Block 2: the whole-block write and the two zeroed sectors may apply in either order, but each
                // sector is whole from one of them; a read-modify-write that read the block before the write
                // landed would put back the last round's bytes.
                byte[] block2 = c.read(8192, 4096);
                byte[] zeros = new byte[512];
                for (int s = 0; s < 8; s++) {
                    boolean zeroed = s == 2 || s == 6;
                    assertTrue(Arrays.equals(whole, s * 512, s * 512 + 512, block2, s * 512, s * 512 + 512)
                            || zeroed && Arrays.equals(zeros, 0, 512, block2, s * 512, s * 512 + 512),
                        "round " + round + " block 2 sector " + s + " holds " + (zeroed ? "the write's bytes or zeros" : "the write's bytes"));
                }
            }
        }
    }

    @Test
    void aSmallReserveLimitsThePayloadAndStillServesEverything() throws IOException {
        serve(new MemoryBlockDevice(BLOCKS).async(2, 200), 1 << 20); // 8 slabs of 128 KiB
        assertEquals(7 * 128 * 1024 - 4096, server.maxPayloadBytes());
        byte[] content = random((int) SIZE, 7);
        try (RawNbdClient c = client().greet().go(); RawNbdClient d = client().greet().go()) {
            int chunk = 256 * 1024;
            for (int i = 0; i < SIZE / chunk; i++) {
                (i % 2 == 0 ? c : d).request(0, Nbd.NBD_CMD_WRITE, i, (long) i * chunk, chunk,
                    Arrays.copyOfRange(content, i * chunk, (i + 1) * chunk));
            }
            for (int i = 0; i < SIZE / chunk; i++) {
                assertEquals(0, (i % 2 == 0 ? c : d).reply().error());
            }
            int max = server.maxPayloadBytes();
            c.request(0, Nbd.NBD_CMD_READ, 99, 512, max, null);
            d.request(0, Nbd.NBD_CMD_WRITE, 98, 1024, 4096, Arrays.copyOfRange(content, 1024, 1024 + 4096));
            assertEquals(0, c.reply().error());
            assertArrayEquals(Arrays.copyOfRange(content, 512, 512 + max), c.readBytes(max));
            assertEquals(0, d.reply().error());
        }
        assertArrayEquals(content, device.bytes());
    }

    @Test
    void aLargeReserveAdvertisesTheSpecsDefaultMaximum() {
        serve(new MemoryBlockDevice(BLOCKS), 64L << 20);
        assertEquals(Nbd.MAX_PAYLOAD_BYTES, server.maxPayloadBytes());
    }

    @Test
    void disconnectAnswersWhatIsInFlightFirst() throws IOException {
        serve(new MemoryBlockDevice(BLOCKS).async(2, 20_000), NbdServer.DEFAULT_RESERVE_BYTES);
        try (RawNbdClient c = client().greet().go()) {
            for (int i = 0; i < 10; i++) {
                c.request(0, Nbd.NBD_CMD_WRITE, i, i * 4096L, 4096, new byte[4096]);
            }
            c.disconnect();
            Set<Long> cookies = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                RawNbdClient.SimpleReply r = c.reply();
                assertEquals(0, r.error(), "write " + r.cookie() + " in flight at the disconnect");
                cookies.add(r.cookie());
            }
            assertEquals(java.util.stream.LongStream.range(0, 10).boxed().collect(java.util.stream.Collectors.toSet()), cookies);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void clientVanishingMidRequestLeavesTheServerWhole() throws IOException {
        serve(new MemoryBlockDevice(BLOCKS).async(2, 5000), 1 << 20);
        byte[] content = random((int) SIZE, 8);
        System.arraycopy(content, 0, device.bytes(), 0, content.length);
        for (int k = 0; k < 5; k++) {
            try (RawNbdClient c = client().greet().go()) {
                c.request(0, Nbd.NBD_CMD_WRITE, 1, 0, 65536, new byte[1000]); // payload cut short
                for (int i = 0; i < 20; i++) {
                    c.requestWithMagic(Nbd.NBD_REQUEST_MAGIC, 0, Nbd.NBD_CMD_READ, i, 0, 4096);
                }
            }
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.getOutputStream().write(new byte[] {1, 2, 3});
            }
        }
        try (RawNbdClient c = client().greet().go()) {
            int max = server.maxPayloadBytes();
            c.request(0, Nbd.NBD_CMD_READ, 5, 0, max, null);
            assertEquals(new RawNbdClient.SimpleReply(0, 5), c.reply(), "every slab came back to the reserve");
            assertArrayEquals(Arrays.copyOf(content, max), c.readBytes(max), "the device as it was: no cut-short write landed");
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
