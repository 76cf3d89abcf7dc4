package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.cluster.ClusterFollower;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.ClientTls;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PagePoolException;
import dev.pagepool.client.PageStatus;
import dev.pagepool.client.PoolMemory;
import dev.pagepool.client.PoolRef;
import dev.pagepool.client.PoolSecret;
import dev.pagepool.discovery.ClusterSettings;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorEndpoint;
import dev.pagepool.discovery.DonorLoad;
import dev.pagepool.discovery.DonorMember;
import dev.pagepool.protocol.Frame;
import dev.pagepool.protocol.FrameWriter;
import dev.pagepool.protocol.Opcode;
import dev.pagepool.protocol.PoolSpec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster's secrets stay with the cluster: a rogue member gets neither the token nor a page, the wire can be
 * encrypted, and a donor refuses to start in a configuration that would leave it open.
 */
class SecurityTest {
    private static final String TOKEN = "security-e2e-token-0123456789abcdef";
    private static final Path TLS = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize()
        .resolve("src/test/resources/tls");

    @Test
    @Timeout(120)
    void anImpostorAdvertisedThroughARealHazelcastMemberGetsNoTokenAndNoPage() throws Exception {
        int hzDonor = DonorProcess.freePort();
        int hzImpostor = DonorProcess.freePort();
        String members = "127.0.0.1:" + hzDonor + ",127.0.0.1:" + hzImpostor;
        String cluster = "security-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        DonorSettings real = DonorSettings.defaults("real").withToken(TOKEN).withCapacity("64m")
            .withCluster(members, hzDonor).with("pagepool.cluster.name", cluster);
        try (Impostor impostor = new Impostor();
             DonorProcess donor = Donors.start(real);
             // Anyone who reaches the member port can join: Hazelcast's open-source membership has no authentication.
             DonorMember rogue = DonorMember.start(ClusterSettings.tcpIp(cluster, List.of(members.split(",")), hzImpostor),
                 new DonorEndpoint("impostor", "127.0.0.1", impostor.port(), 0),
                 () -> new DonorLoad(1L << 40, 0, DonorLoad.PRESSURE_NONE, 0, System.currentTimeMillis()));
             ClusterView view = ClusterView.connect(cluster, List.of(members.split(",")), ClusterView.DEFAULT_STARTUP_TIMEOUT);
             PagePoolClient client = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN))) {
            ClusterFollower.follow(client, view);
            long deadline = System.currentTimeMillis() + 20_000;
            while (impostor.connections.get() == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(100); // the client learns of the impostor from the membership and tries it
            }
            PoolRef pool = client.newPool(PoolSpec.privatePool(true));
            byte[] page = new byte[Frame.PAGE_BYTES];
            new Random(1).nextBytes(page);
            for (int i = 0; i < 200; i++) {
                PageStatus s = client.put(pool, i, 0, page);
                assertTrue(s == PageStatus.OK || s == PageStatus.REJECTED, "a put is answered: " + s);
            }
            assertTrue(impostor.connections.get() > 0, "the client did try the advertised impostor");
            byte[] heard = impostor.heard();
            assertFalse(new String(heard, StandardCharsets.ISO_8859_1).contains(TOKEN), "the token never reached the impostor");
            assertEquals(0, impostor.framesOf(Opcode.PUT), "no page reached the impostor");
            assertEquals(0, impostor.framesOf(Opcode.AUTH), "no proof to test guesses against reached the impostor");
            byte[] got = new byte[Frame.PAGE_BYTES];
            assertEquals(PageStatus.OK, client.get(pool, 0, 0, false, got));
            assertArrayEquals(page, got, "the real donor holds the pages");
        }
    }

    @Test
    @Timeout(120)
    void withTlsADonorServesAClientThatTrustsItsCaAndNoOther() throws Exception {
        DonorSettings tls = Donors.lone("tls", TOKEN, "32m")
            .with("pagepool.tls.cert", TLS.resolve("donor.pem").toString())
            .with("pagepool.tls.key", TLS.resolve("donor-key.pem").toString());
        try (DonorProcess donor = Donors.start(tls)) {
            // A generous connect timeout: the first TLS handshakes of a cold JVM on a loaded machine take seconds.
            ClientConfig base = new ClientConfig(List.of(donor.dataAddress()), TOKEN, 7, 1, 64, java.time.Duration.ofSeconds(15),
                java.time.Duration.ofSeconds(15), java.time.Duration.ofSeconds(20));
            try (PagePoolClient client = PagePoolClient.connect(base.withTls(ClientTls.trusting(TLS.resolve("ca.pem"))))) {
                PoolRef pool = client.newPool(PoolSpec.privatePool(true));
                byte[] page = new byte[Frame.PAGE_BYTES];
                new Random(2).nextBytes(page);
                assertEquals(PageStatus.OK, client.put(pool, 1, 1, page));
                byte[] got = new byte[Frame.PAGE_BYTES];
                assertEquals(PageStatus.OK, client.get(pool, 1, 1, false, got));
                assertArrayEquals(page, got);
            }
            assertThrows(PagePoolException.class, () -> PagePoolClient.connect(base).close(), "plain TCP to a TLS port");
            assertThrows(PagePoolException.class, () -> PagePoolClient.connect(
                base.withTls(ClientTls.trusting(TLS.resolve("other-ca.pem")))).close(), "a certificate of another CA");
            assertTrue(donor.isAlive());
        }
    }

    @Test
    void aDonorWithUnusableTlsFilesRefusesToStartAndSaysWhy() throws Exception {
        Path garbage = Files.createTempFile("pagepool-not-a-key-", ".pem");
        Files.writeString(garbage, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
        try {
            String missing = refusal(Donors.lone("tls-missing", TOKEN, "32m")
                .with("pagepool.tls.cert", TLS.resolve("donor.pem").toString())
                .with("pagepool.tls.key", "/nonexistent/donor-key.pem"));
            assertTrue(missing.contains("pagepool.tls.key=/nonexistent/donor-key.pem is not a readable file"), missing);
            String bad = refusal(Donors.lone("tls-garbage", TOKEN, "32m")
                .with("pagepool.tls.cert", TLS.resolve("donor.pem").toString())
                .with("pagepool.tls.key", garbage.toString()));
            assertTrue(bad.contains("cannot use pagepool.tls.cert="), bad);
        } finally {
            Files.deleteIfExists(garbage);
        }
    }

    @Test
    @Timeout(120)
    void theAdminApiCanBeServedOverTlsOnlyAndRefusesToStartWithAnUnreadableKey() throws Exception {
        int https = DonorProcess.freePort();
        DonorSettings admin = Donors.lone("admin-tls", TOKEN, "32m")
            .with("quarkus.http.ssl-port", Integer.toString(https))
            .with("quarkus.http.insecure-requests", "disabled")
            .with("quarkus.tls.key-store.pem.0.cert", TLS.resolve("donor.pem").toString());
        String refused = refusal(admin.with("quarkus.tls.key-store.pem.0.key", "/nonexistent/admin-key.pem"));
        assertTrue(refused.contains("/nonexistent/admin-key.pem"), refused);

        // Started, it answers on HTTPS with a certificate of the cluster's CA, and not on plain HTTP.
        DonorSettings good = admin.with("quarkus.tls.key-store.pem.0.key", TLS.resolve("donor-key.pem").toString());
        DonorSettings withPorts = good.withPorts(DonorProcess.freePort(), DonorProcess.freePort());
        // Started by hand: DonorProcess waits for readiness over plain HTTP, which this donor no longer serves.
        java.security.KeyStore trust = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream ca = Files.newInputStream(TLS.resolve("ca.pem"))) {
            trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(ca));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().sslContext(ssl).build();
        Process p = new ProcessBuilder(DonorProcess.command(withPorts, withPorts.dataPort(), withPorts.httpPort()))
            .redirectErrorStream(true).redirectOutput(Files.createTempFile("pagepool-admin-tls-", ".log").toFile()).start();
        try {
            java.net.http.HttpResponse<String> r = null;
            long deadline = System.currentTimeMillis() + Donors.READY_TIMEOUT.toMillis();
            while (r == null && System.currentTimeMillis() < deadline && p.isAlive()) {
                try {
                    r = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("https://localhost:" + https + "/admin/stats"))
                        .header("Authorization", "Bearer " + TOKEN).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException notYet) {
                    Thread.sleep(200);
                }
            }
            assertTrue(r != null, "the admin API answers over HTTPS");
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("capacity_bytes"));
            java.net.http.HttpClient plain = java.net.http.HttpClient.newHttpClient();
            assertThrows(java.io.IOException.class, () -> plain.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + withPorts.httpPort() + "/admin/stats")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()), "no plain HTTP once insecure requests are disabled");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    @Test
    @Timeout(120)
    void anImpostorWithTheTokenAndTheVictimsClientIdCanNeitherReadWriteFlushDestroyNorReattachItsPool() throws Exception {
        int extents = 4;
        try (DonorProcess donor = Donors.start("pool-secret", TOKEN, "64m")) {
            ClientConfig base = new ClientConfig(List.of(donor.dataAddress()), TOKEN, 7, 1, 64, java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(20)).withStallTimeout(java.time.Duration.ofSeconds(3));
            ByteBuffer book = ByteBuffer.allocateDirect((int) PoolMemory.bytesFor(extents));
            byte[] page = new byte[Frame.PAGE_BYTES];
            new Random(30).nextBytes(page);
            try (PagePoolClient victim = PagePoolClient.connect(base.withPoolSecret(PoolSecret.random()))) {
                PoolRef pool = victim.newPool(PoolSpec.privatePool(true), 1, PoolMemory.in(book, extents, true));
                for (int i = 0; i < 8; i++) {
                    assertEquals(PageStatus.OK, victim.put(pool, 0, i, page));
                }
                // The same token, the same client id, its own secret: what anyone on an agent host could do.
                try (RawConnection impostor = new RawConnection(donor.dataAddress())) {
                    impostor.authenticate(7, PoolSecret.random(), TOKEN);
                    int id = pool.idOn(0);
                    for (int opcode : new int[] {Opcode.GET, Opcode.FLUSH_PAGE, Opcode.FLUSH_OBJECT, Opcode.PUT}) {
                        ByteBuf frame = Unpooled.buffer();
                        FrameWriter.vector(frame, opcode, 0, 10 + opcode, id, 1);
                        if (opcode == Opcode.FLUSH_OBJECT) {
                            frame.writeLong(0);
                        } else if (opcode == Opcode.PUT) {
                            FrameWriter.putEntry(frame, 0, 0, 0, 0, new byte[Frame.PAGE_BYTES], 0);
                        } else {
                            FrameWriter.keyEntry(frame, 0, 0);
                        }
                        impostor.send(frame);
                        assertRefusedForTheSecret(impostor.next(), Opcode.name(opcode));
                    }
                    ByteBuf destroy = Unpooled.buffer();
                    FrameWriter.destroyPool(destroy, 20, id);
                    impostor.send(destroy);
                    assertRefusedForTheSecret(impostor.next(), "DESTROY_POOL");
                }
                // Re-attaching as the agent does after a restart, with a copy of the victim's bookkeeping: the donor
                // refuses the pool to another secret, and the impostor reads nothing.
                ByteBuffer stolen = ByteBuffer.allocateDirect(book.capacity());
                stolen.put(book.duplicate().clear()).clear();
                try (PagePoolClient impostor = PagePoolClient.connect(base.withPoolSecret(PoolSecret.random()))) {
                    PoolRef resumed = impostor.resumePool(PoolSpec.privatePool(true), 1, PoolMemory.in(stolen, extents, false));
                    byte[] got = new byte[Frame.PAGE_BYTES];
                    // The donor answers the resumed pool's check with BAD_SECRET: the impostor takes it out of
                    // service ("refuses pool N to this client's pool secret") and has no copy left to read.
                    PageStatus status;
                    try {
                        status = impostor.get(resumed, 0, 0, false, got);
                    } catch (PagePoolException refused) {
                        status = null;
                    }
                    assertTrue(status != PageStatus.OK, "the resumed pool opened to another secret");
                    assertFalse(java.util.Arrays.equals(page, got), "no page of the victim's reached the impostor");
                }
                byte[] got = new byte[Frame.PAGE_BYTES];
                for (int i = 0; i < 8; i++) {
                    assertEquals(PageStatus.OK, victim.get(pool, 0, i, false, got), "the victim's page " + i + " is still there");
                    assertArrayEquals(page, got);
                }
            }
            assertTrue(donor.isAlive());
        }
    }

    private static void assertRefusedForTheSecret(RawConnection.Reply r, String what) {
        String message = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(dev.pagepool.protocol.Status.BAD_SECRET, r.header().status(), what + ": " + message);
        assertTrue(message.contains("did not prove its secret"), what + ": " + message);
    }

    @Test
    @Timeout(120)
    void aRelayThatPassesARealDonorsHandshakeOffAsItsOwnIsRefusedWithAProofMismatch() throws Exception {
        try (DonorProcess donor = Donors.start("relayed", TOKEN, "32m");
             Relay relay = new Relay(donor.dataAddress())) {
            ClientConfig viaRelay = new ClientConfig(List.of(new java.net.InetSocketAddress("127.0.0.1", relay.port())), TOKEN, 8, 1,
                64, java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(20));
            PagePoolException e = assertThrows(PagePoolException.class, () -> {
                try (PagePoolClient client = PagePoolClient.connect(viaRelay)) {
                    client.newPool(PoolSpec.privatePool(true));
                }
            });
            assertTrue(relay.relayedHellos.get() > 0, "the client did go through the relay");
            assertTrue(String.valueOf(e.getMessage()).contains("proof mismatch"), String.valueOf(e.getMessage()));
            assertEquals(0, relay.framesToDonor(Opcode.AUTH), "no proof, no owner key went through the relay");
            assertEquals(0, relay.framesToDonor(Opcode.PUT), "no page went through the relay");
            // The donor and a direct client are none the worse for it.
            try (PagePoolClient direct = PagePoolClient.connect(ClientConfig.of(List.of(donor.dataAddress()), TOKEN))) {
                PoolRef pool = direct.newPool(PoolSpec.privatePool(true));
                assertEquals(PageStatus.OK, direct.put(pool, 1, 1, new byte[Frame.PAGE_BYTES]));
            }
        }
    }

    @Test
    void anAdminApiOnTheNetworkWithoutATokenIsRefused() {
        String log = refusal(Donors.lone("admin-open", "", "32m").with("quarkus.http.host", "0.0.0.0"));
        assertTrue(log.contains("quarkus.http.host=0.0.0.0 is not loopback"), log);
    }

    private static String refusal(DonorSettings settings) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Donors.start(settings).close());
        assertTrue(e.getMessage().contains("exited"), "the process ends rather than serving: " + e.getMessage());
        return e.getMessage();
    }

    /** Frames of {@code opcode} in a recorded byte stream, read header by header. */
    private static int framesOf(byte[] stream, int opcode) {
        ByteBuf b = Unpooled.wrappedBuffer(stream);
        int n = 0;
        while (b.readableBytes() >= Frame.HEADER_BYTES) {
            int op = b.getUnsignedByte(b.readerIndex() + Frame.OPCODE_OFFSET);
            long length = b.getUnsignedInt(b.readerIndex() + Frame.BODY_LENGTH_OFFSET);
            n += op == opcode ? 1 : 0;
            if (b.readableBytes() < Frame.HEADER_BYTES + length) {
                break;
            }
            b.skipBytes((int) (Frame.HEADER_BYTES + length));
        }
        return n;
    }

    /**
     * An endpoint that speaks just enough of the protocol to answer HELLO, without the token: its proof is random.
     * It records every byte it is sent.
     */
    private static final class Impostor implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger connections = new AtomicInteger();
        private final ByteArrayOutputStream heard = new ByteArrayOutputStream();
        private final Thread acceptor = new Thread(this::accept, "impostor");

        Impostor() throws Exception {
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    connections.incrementAndGet();
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    byte[] hello = in.readNBytes(Frame.HEADER_BYTES + Frame.HELLO_BYTES);
                    record(hello);
                    if (hello.length == Frame.HEADER_BYTES + Frame.HELLO_BYTES) {
                        long id = Unpooled.wrappedBuffer(hello).getLong(Frame.REQUEST_ID_OFFSET);
                        byte[] guess = new byte[Frame.PROOF_BYTES];
                        new Random().nextBytes(guess);
                        ByteBuf reply = Unpooled.buffer();
                        FrameWriter.helloReply(reply, id, 256, Frame.MAX_BODY_BYTES, new byte[Frame.NONCE_BYTES], guess, "impostor",
                            java.util.UUID.randomUUID());
                        byte[] out = new byte[reply.readableBytes()];
                        reply.readBytes(out);
                        s.getOutputStream().write(out);
                    }
                    byte[] rest = in.readAllBytes(); // whatever the client sends until it gives up on us
                    record(rest);
                } catch (Exception e) {
                    // a closed or timed-out connection: the next one, or the end
                }
            }
        }

        private synchronized void record(byte[] bytes) {
            heard.writeBytes(bytes);
        }

        synchronized byte[] heard() {
            return heard.toByteArray();
        }

        /** Frames of {@code opcode} among what was heard, read header by header. */
        synchronized int framesOf(int opcode) {
            return SecurityTest.framesOf(heard.toByteArray(), opcode);
        }

        @Override
        public void close() throws Exception {
            server.close();
        }
    }

    /**
     * A relay in front of a real donor that passes the donor's handshake off as its own: it forwards every byte both
     * ways, but names itself in the HELLO reply (a donor id of its own), as a relay advertised through the membership
     * would, to be counted as a donor of its own and be sent copies. It counts the frames it forwards to the donor.
     */
    private static final class Relay implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicInteger relayedHellos = new AtomicInteger();
        private final java.net.InetSocketAddress donor;
        private final ByteArrayOutputStream toDonor = new ByteArrayOutputStream();
        private final java.util.UUID ownId = java.util.UUID.randomUUID();
        private final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();

        Relay(java.net.InetSocketAddress donor) throws Exception {
            this.donor = donor;
            Thread acceptor = new Thread(this::accept, "relay");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(donor.getAddress(), donor.getPort());
                    sockets.add(client);
                    sockets.add(upstream);
                    Thread up = new Thread(() -> pump(client, upstream), "relay-up");
                    up.setDaemon(true);
                    up.start();
                    Thread down = new Thread(() -> rewriteHelloThenPump(upstream, client), "relay-down");
                    down.setDaemon(true);
                    down.start();
                } catch (Exception e) {
                    // closed: the end
                }
            }
        }

        private void pump(Socket from, Socket to) {
            try {
                byte[] buf = new byte[8192];
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    synchronized (this) {
                        toDonor.write(buf, 0, n);
                    }
                    to.getOutputStream().write(buf, 0, n);
                }
            } catch (Exception e) {
                // either side closed
            } finally {
                closeQuietly(to);
            }
        }

        private void rewriteHelloThenPump(Socket from, Socket to) {
            try {
                InputStream in = from.getInputStream();
                byte[] header = in.readNBytes(Frame.HEADER_BYTES);
                int length = Unpooled.wrappedBuffer(header).getInt(Frame.BODY_LENGTH_OFFSET);
                byte[] body = in.readNBytes(length);
                if (body.length >= Frame.HELLO_REPLY_FIXED_BYTES + Frame.HELLO_REPLY_DONOR_ID_BYTES) {
                    Unpooled.wrappedBuffer(body).setLong(body.length - 16, ownId.getMostSignificantBits())
                        .setLong(body.length - 8, ownId.getLeastSignificantBits());
                    relayedHellos.incrementAndGet();
                }
                to.getOutputStream().write(header);
                to.getOutputStream().write(body);
                in.transferTo(to.getOutputStream());
            } catch (Exception e) {
                // either side closed
            } finally {
                closeQuietly(to);
            }
        }

        synchronized int framesToDonor(int opcode) {
            return SecurityTest.framesOf(toDonor.toByteArray(), opcode);
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (java.io.IOException ignored) {
                // closing
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            for (Socket s : sockets) {
                closeQuietly(s);
            }
        }
    }
}
