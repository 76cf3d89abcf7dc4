package dev.pagepool.node.net;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a stranger (a peer that has not completed the handshake) can cost a donor: nothing of its reserve, a
 * bounded number of connections, a few seconds; and trickled bytes do not count as activity.
 */
@QuarkusTest
@TestProfile(HardenedProfile.class)
class StrangersTest {
    /** Generous for 40 loopback round trips on a loaded machine; what matters is that none waited on a stranger. */
    private static final long SERVE_BOUND_MILLIS = 5000;

    @Inject
    DataServer server;

    private static long stat(String key) {
        return given().header("Authorization", "Bearer " + HardenedProfile.TOKEN).when().get("/admin/stats")
            .then().statusCode(200).extract().jsonPath().getLong(key);
    }

    private static byte[] randomPage(long seed) {
        byte[] page = new byte[Frame.PAGE_BYTES];
        new SplittableRandom(seed).nextBytes(page);
        return page;
    }

    /** A HELLO header and a few bytes of its body, the rest never sent: what a slow stranger holds a buffer with. */
    private static byte[] partialHello() {
        ByteBuf hello = Unpooled.buffer();
        FrameWriter.hello(hello, 1, 5, new byte[Frame.NONCE_BYTES]);
        byte[] bytes = new byte[Frame.HEADER_BYTES + 10];
        hello.readBytes(bytes);
        return bytes;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void slowStrangersTakeNoReserveAndNoRoomFromAnAuthenticatedClient() throws Exception {
        List<DataPortClient> strangers = new ArrayList<>();
        long refusedBefore = stat("connections_refused");
        try {
            // The cluster's own client, connected before the strangers came: they cannot crowd it out.
            DataPortClient client = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN);
            strangers.add(client);
            int pool = client.newPool(true);
            for (int i = 0; i < HardenedProfile.MAX_STRANGERS; i++) {
                DataPortClient s = new DataPortClient(server.port());
                strangers.add(s);
                s.send(partialHello());
            }
            // One more than the cap: turned away at once, without a byte read.
            DataPortClient extra = new DataPortClient(server.port());
            strangers.add(extra);
            extra.socket().setSoTimeout(500);
            assertTrue(extra.closedByDonor(), "a stranger above max-unauthenticated-connections is closed at accept");
            Thread.sleep(100); // the partial HELLOs have arrived and sit in their connections' own buffers
            assertEquals(0, stat("reserve_used_bytes"), "strangers hold no reserve buffer");

            long started = System.nanoTime();
            for (int round = 0; round < 20; round++) {
                for (int status : client.put(pool, round, 0, 4, randomPage(round))) {
                    assertEquals(Status.PAGE_OK, status);
                }
                for (int status : client.get(pool, round, 0, 4)) {
                    assertEquals(Status.PAGE_OK, status);
                }
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(millis < SERVE_BOUND_MILLIS, "20 puts and gets served in " + millis + " ms while the strangers wait");
            assertTrue(stat("connections_refused") > refusedBefore);
        } finally {
            for (DataPortClient s : strangers) {
                s.close();
            }
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aPeerThatNeverCompletesTheHandshakeIsClosedAtTheHelloDeadline() throws Exception {
        long timeoutsBefore = stat("handshake_timeouts");
        try (DataPortClient silent = new DataPortClient(server.port());
             DataPortClient halfway = new DataPortClient(server.port())) {
            // HELLO answered, AUTH never sent: the deadline covers the whole handshake.
            ByteBuf hello = Unpooled.buffer();
            FrameWriter.hello(hello, 1, 9, new byte[Frame.NONCE_BYTES]);
            halfway.send(hello);
            assertEquals(Status.OK, halfway.next().header().status());
            long started = System.nanoTime();
            silent.socket().setSoTimeout(10_000);
            halfway.socket().setSoTimeout(10_000);
            assertTrue(silent.closedByDonor());
            assertTrue(halfway.closedByDonor());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(millis < 5 * HardenedProfile.HELLO_TIMEOUT_MILLIS, "closed after " + millis + " ms");
        }
        assertTrue(stat("handshake_timeouts") >= timeoutsBefore + 2);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void bytesTrickledWithoutAWholeFrameDoNotKeepAConnectionOpen() throws Exception {
        try (DataPortClient client = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            ByteBuf ping = Unpooled.buffer();
            FrameWriter.ping(ping, 77, 1);
            byte[] frame = new byte[ping.readableBytes()];
            ping.readBytes(frame);
            long started = System.nanoTime();
            boolean closed = false;
            // One byte every 250 ms: the frame (32 bytes) would complete after 8 s, well past the 2 s idle timeout.
            for (int i = 0; i < frame.length - 1 && !closed; i++) {
                try {
                    client.send(new byte[] {frame[i]});
                } catch (IOException e) {
                    closed = true;
                    break;
                }
                client.socket().setSoTimeout(250);
                try {
                    closed = client.socket().getInputStream().read() < 0;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // nothing to read yet: go on trickling
                } catch (IOException e) {
                    closed = true;
                }
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(closed, "the connection outlived the idle timeout on trickled bytes");
            assertTrue(millis >= HardenedProfile.IDLE_TIMEOUT_MILLIS - 100 && millis < 3 * HardenedProfile.IDLE_TIMEOUT_MILLIS,
                "closed after " + millis + " ms");
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aConnectionClosedInTheMiddleOfAFrameGivesItsReserveBufferBack() throws Exception {
        try (DataPortClient client = DataPortClient.authenticated(server.port(), HardenedProfile.TOKEN)) {
            int pool = client.newPool(true);
            ByteBuf put = client.putFrame(1000, pool, 1, 0, 64, randomPage(3));
            byte[] half = new byte[put.readableBytes() / 2];
            put.readBytes(half);
            client.send(half);
            Thread.sleep(200);
            assertTrue(stat("reserve_used_bytes") > 0, "the half-received PUT holds a reserve buffer");
        }
        long deadline = System.currentTimeMillis() + 5000;
        while (stat("reserve_used_bytes") != 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, stat("reserve_used_bytes"), "the buffer of the unfinished frame went back to the reserve");
    }

    @Test
    void theHandshakeProvesBothSidesAndRefusesEveryShortcut() throws Exception {
        try (DataPortClient c = new DataPortClient(server.port())) {
            assertTrue(c.authenticate(1, HardenedProfile.TOKEN).length() > 0, "the donor names itself");
            c.ping();
        }
        try (DataPortClient c = new DataPortClient(server.port())) {
            // A client with another token finds the donor's proof wrong and sends no proof of its own.
            AssertionError e = assertThrows(AssertionError.class, () -> c.authenticate(2, "another-token"));
            assertTrue(e.getMessage().contains("the donor's proof does not match"), e.getMessage());
        }
        long failures = stat("auth_failures");
        try (DataPortClient c = new DataPortClient(server.port())) {
            ByteBuf hello = Unpooled.buffer();
            FrameWriter.hello(hello, 1, 3, new byte[Frame.NONCE_BYTES]);
            c.send(hello);
            assertEquals(Status.OK, c.next().header().status());
            ByteBuf auth = Unpooled.buffer();
            FrameWriter.auth(auth, 2, new byte[Frame.PROOF_BYTES], new dev.pagepool.protocol.OwnerKey(1, 2));
            c.send(auth);
            DataPortClient.Received r = c.next();
            assertEquals(Status.UNAUTHENTICATED, r.header().status());
            assertTrue(r.message().contains("wrong proof"), r.message());
            assertTrue(c.closedByDonor());
        }
        try (DataPortClient c = new DataPortClient(server.port())) {
            ByteBuf auth = Unpooled.buffer();
            FrameWriter.auth(auth, 2, new byte[Frame.PROOF_BYTES], new dev.pagepool.protocol.OwnerKey(1, 2));
            c.send(auth);
            assertEquals(Status.UNAUTHENTICATED, c.next().header().status(), "AUTH before HELLO");
            assertTrue(c.closedByDonor());
        }
        assertTrue(stat("auth_failures") >= failures + 2);
    }

    @Test
    void aVersionOnePeerIsToldInItsOwnHeaderVersion() throws Exception {
        try (DataPortClient c = new DataPortClient(server.port())) {
            // A version-1 HELLO: header version 1, token in clear.
            ByteBuf hello = Unpooled.buffer();
            hello.writeInt(Frame.MAGIC).writeByte(1).writeByte(Opcode.HELLO).writeShort(0).writeLong(1)
                .writeInt(12 + 5).writeShort(0).writeShort(0);
            hello.writeShort(1).writeShort(5).writeLong(42).writeBytes("token".getBytes());
            c.send(hello);
            byte[] header = new byte[Frame.HEADER_BYTES];
            new java.io.DataInputStream(c.socket().getInputStream()).readFully(header);
            ByteBuf h = Unpooled.wrappedBuffer(header);
            assertEquals(1, h.getUnsignedByte(Frame.VERSION_OFFSET), "a version-1 reader can take the refusal in");
            assertEquals(Status.UNSUPPORTED_VERSION, h.getUnsignedShort(Frame.STATUS_OFFSET));
            byte[] body = new byte[h.getInt(Frame.BODY_LENGTH_OFFSET)];
            new java.io.DataInputStream(c.socket().getInputStream()).readFully(body);
            String message = new String(body, 2, body.length - 2, java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(message.contains("version 1") && message.contains("version 2"), message);
        }
    }
}
