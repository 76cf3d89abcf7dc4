package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolRef;
import dev.pagepool.client.UnauthenticatedException;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PageChecksum;
import dev.pagepool.protocol.PoolSpec;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets a clear error and loses nothing: each test feeds the donor something hostile on its data
 * port, checks the typed reply, and then checks that the donor still serves a well-behaved client and the
 * pages it held.
 */
class HostileClientTest {
    private static final String TOKEN = "hostile-e2e";
    private static DonorProcess donor;
    private static PagePoolClient good;
    private static PoolRef pool;
    private static final byte[] PAGE = new byte[Frame.PAGE_BYTES];

    @BeforeAll
    static void start() {
        donor = Donors.start("hostile", TOKEN, "32m");
        good = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN));
        pool = good.newPool(PoolSpec.privatePool(true));
        new Random(1).nextBytes(PAGE);
        assertEquals(PageStatus.OK, good.put(pool, 1, 1, PAGE));
    }

    @AfterAll
    static void stop() {
        if (good != null) {
            good.close();
        }
        if (donor != null) {
            donor.stop();
        }
    }

    /** After every abuse: the process is up, healthy, and still holds and serves the page put at the start. */
    @AfterEach
    void donorStillServes() throws Exception {
        assertTrue(donor.isAlive(), "donor process died:\n" + donor.logTail(30));
        assertEquals(200, Donors.http(donor, "GET", "/q/health/live", null, null).statusCode());
        byte[] got = new byte[Frame.PAGE_BYTES];
        assertEquals(PageStatus.OK, good.get(pool, 1, 1, false, got));
        assertArrayEquals(PAGE, got);
    }

    private static RawConnection authenticated() throws Exception {
        RawConnection c = new RawConnection(donor.dataAddress());
        c.authenticate(77, TOKEN);
        return c;
    }

    private static void assertPingWorks(RawConnection c) throws Exception {
        ByteBuf ping = Unpooled.buffer();
        FrameWriter.ping(ping, 999, 12345);
        c.send(ping);
        RawConnection.Reply r = c.next();
        assertEquals(999, r.header().requestId());
        assertEquals(Status.OK, r.header().status());
    }

    @Test
    void clientWithWrongTokenIsRefused() {
        assertThrows(UnauthenticatedException.class,
            () -> PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), "not-the-token")).close());
        assertThrows(UnauthenticatedException.class,
            () -> PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), "")).close());
    }

    @Test
    void requestBeforeHelloIsAnsweredUnauthenticatedAndClosed() throws Exception {
        try (RawConnection c = new RawConnection(donor.dataAddress())) {
            ByteBuf get = Unpooled.buffer();
            FrameWriter.vector(get, Opcode.GET, 0, 5, pool.idOn(0), 1);
            FrameWriter.keyEntry(get, 1, 1);
            c.send(get);
            RawConnection.Reply r = c.next();
            assertEquals(Status.UNAUTHENTICATED, r.header().status());
            assertTrue(c.closedByDonor());
        }
    }

    @Test
    void strangerAnnouncingALargeBodyIsRefusedWithoutBeingBuffered() throws Exception {
        try (RawConnection c = new RawConnection(donor.dataAddress())) {
            ByteBuf header = Unpooled.buffer();
            FrameWriter.header(header, Opcode.PUT, 0, 61, Frame.MAX_BODY_BYTES, 0);
            c.send(header); // and never the body: the donor must not wait for it holding a buffer
            RawConnection.Reply r = c.next();
            assertEquals(Status.UNAUTHENTICATED, r.header().status());
            assertTrue(c.closedByDonor());
        }
        String stats = Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body();
        assertTrue(stats.contains("\"reserve_used_bytes\":0"), "no reserve buffer left held: " + stats);
    }

    /** An HTTP request on the data port: not a frame, so refused as MALFORMED and the connection closed. */
    private static void sendHttpToTheDataPort() throws Exception {
        try (RawConnection c = new RawConnection(donor.dataAddress())) {
            c.send("GET / HTTP/1.1\r\nHost: donor\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(Status.MALFORMED, c.next().header().status());
            assertTrue(c.closedByDonor());
        }
    }

    /** A frame with an opcode no version defines, on an authenticated connection: UNKNOWN_OPCODE, and it goes on. */
    private static void sendUnknownOpcode(RawConnection c, long requestId) throws Exception {
        ByteBuf unknown = Unpooled.buffer();
        FrameWriter.header(unknown, 0x7E, 0, requestId, 3, 0);
        unknown.writeBytes(new byte[] {1, 2, 3});
        c.send(unknown);
        RawConnection.Reply r = c.next();
        assertEquals(requestId, r.header().requestId());
        assertEquals(Status.UNKNOWN_OPCODE, r.header().status());
    }

    @Test
    void garbageOnTheDataPortIsRefusedAsMalformed() throws Exception {
        sendHttpToTheDataPort();
        try (RawConnection c = new RawConnection(donor.dataAddress())) {
            byte[] noise = new byte[256 * 1024];
            new Random(7).nextBytes(noise);
            c.send(noise);
        } catch (java.net.SocketException closedMidWrite) {
            // the donor may close before taking it all; that is its right
        }
    }

    @Test
    void oversizedLengthIsSkippedAndTheConnectionGoesOn() throws Exception {
        try (RawConnection c = authenticated()) {
            int tooBig = Frame.MAX_BODY_BYTES + 1;
            ByteBuf header = Unpooled.buffer();
            FrameWriter.header(header, Opcode.PUT, 0, 42, tooBig, 0);
            c.send(header);
            c.send(new byte[tooBig]);
            RawConnection.Reply r = c.next();
            assertEquals(42, r.header().requestId());
            assertEquals(Status.TOO_LARGE, r.header().status());
            assertPingWorks(c);
        }
    }

    @Test
    void unknownOpcodeAndMalformedBodyGetTypedErrorsAndTheConnectionGoesOn() throws Exception {
        try (RawConnection c = authenticated()) {
            sendUnknownOpcode(c, 43);

            ByteBuf lying = Unpooled.buffer();
            FrameWriter.header(lying, Opcode.PUT, 0, 44, Frame.VECTOR_PREFIX_BYTES + 10, 0);
            lying.writeInt(pool.idOn(0)).writeShort(3).writeShort(0).writeBytes(new byte[10]);
            c.send(lying);
            RawConnection.Reply r = c.next();
            assertEquals(Status.MALFORMED, r.header().status());
            assertTrue(new String(r.body(), StandardCharsets.UTF_8).contains("vector of 3 entries"));
            assertPingWorks(c);
        }
    }

    @Test
    void pageWithWrongChecksumIsNotStoredAndDropsTheOldVersion() throws Exception {
        PoolRef own = good.newPool(PoolSpec.privatePool(true));
        assertEquals(PageStatus.OK, good.put(own, 5, 5, PAGE));
        try (RawConnection c = new RawConnection(donor.dataAddress())) {
            // Private pools open to their owner's pool secret: this raw connection proves the good client's.
            c.authenticate(good.config().clientId(), good.config().poolSecret(), TOKEN);
            ByteBuf put = Unpooled.buffer();
            FrameWriter.vector(put, Opcode.PUT, 0, 50, own.idOn(0), 1);
            int crc = new PageChecksum().of(PAGE, 0, Frame.PAGE_BYTES);
            FrameWriter.putEntry(put, 5, 5, crc ^ 1, 0, PAGE, 0);
            c.send(put);
            RawConnection.Reply r = c.next();
            assertEquals(Status.OK, r.header().status());
            assertEquals(Status.PAGE_BAD_CRC, r.body()[Frame.STATUS_VECTOR_PREFIX_BYTES]);
        }
        assertEquals(PageStatus.MISS, good.get(own, 5, 5, false, new byte[Frame.PAGE_BYTES]),
            "a damaged put stores nothing and leaves no older version behind");
        good.destroyPool(own);
    }

    /** The test makes the abuse it counts, so it passes or fails alone, whichever tests ran before it. */
    @Test
    void statsCountTheAbuse() throws Exception {
        long before = protocolErrors();
        sendHttpToTheDataPort();
        try (RawConnection c = authenticated()) {
            sendUnknownOpcode(c, 45);
            assertPingWorks(c);
        }
        assertEquals(before + 2, protocolErrors(), "one protocol error for each of the two bad frames");
        assertEquals(401, Donors.http(donor, "GET", "/admin/stats", "wrong", null).statusCode());
    }

    private static long protocolErrors() throws Exception {
        String stats = Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body();
        JsonNode errors = new ObjectMapper().readTree(stats).get("protocol_errors");
        assertTrue(errors != null && errors.canConvertToLong(), "stats carry protocol_errors: " + stats);
        return errors.asLong();
    }
}
