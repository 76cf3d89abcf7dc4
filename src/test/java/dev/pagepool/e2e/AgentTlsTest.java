package dev.pagepool.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import dev.pagepool.client.ClientConfig;
import dev.pagepool.client.ClientTls;
import dev.pagepool.client.PagePoolClient;
import dev.pagepool.client.PagePoolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pagepool agent} over TLS: pages leave the host encrypted, to a donor whose certificate chains to the CA the
 * agent was given and names the host it is reached at, and the agent shows a certificate of its own to a donor
 * that asks for one. An agent given another CA sends the donor nothing.
 */
class AgentTlsTest {
    private static final String TOKEN = "agent-tls-e2e-token-0123456789";
    private static final Path TLS = Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize()
        .resolve("src/test/resources/tls");

    private static DonorSettings tlsDonor() {
        return Donors.lone("agent-tls", TOKEN, "128m")
            .with("pagepool.tls.cert", TLS.resolve("donor.pem").toString())
            .with("pagepool.tls.key", TLS.resolve("donor-key.pem").toString())
            // The test CA signed one certificate, for localhost: the agent presents it as its own.
            .with("pagepool.tls.client-ca", TLS.resolve("ca.pem").toString());
    }

    private static List<String> agentArgs(DonorProcess donor, Path dir, String ca) {
        List<String> args = new ArrayList<>(List.of("--nodes", "localhost:" + donor.dataAddress().getPort(),
            "--token", TOKEN, "--size", "32m", "--replicas", "1", "--disk", dir.resolve("swap.img").toString(),
            "--state", dir.resolve("state").toString(), "--tls-ca", TLS.resolve(ca).toString()));
        args.addAll(List.of("--tls-cert", TLS.resolve("donor.pem").toString(), "--tls-key", TLS.resolve("donor-key.pem").toString()));
        return args;
    }

    private static long donorPuts(DonorProcess donor) throws Exception {
        return new ObjectMapper().readTree(Donors.http(donor, "GET", "/admin/stats", TOKEN, null).body()).get("puts").asLong();
    }

    @Test
    @Timeout(240)
    void anAgentSwapsOverTlsToADonorOfItsCaWithItsClientCertificateAndRefusesADonorOfAnotherCa(@TempDir Path dir)
            throws Exception {
        try (DonorProcess donor = Donors.start(tlsDonor())) {
            try (AgentProcess agent = AgentProcess.start(agentArgs(donor, dir.resolve("good"), "ca.pem"))) {
                byte[] data = new byte[8 << 20];
                new Random(31).nextBytes(data);
                Path in = dir.resolve("in.bin");
                Path out = dir.resolve("out.bin");
                Files.write(in, data);
                Tool.run(120, "nbdcopy", in.toString(), agent.uri()).ok();
                Tool.run(120, "nbdcopy", agent.uri(), out.toString()).ok();
                assertArrayEquals(data, java.util.Arrays.copyOf(Files.readAllBytes(out), data.length));
                assertTrue(donorPuts(donor) > 0, "the pages went to the donor, over TLS: " + agent.output());
            }

            // A client without a certificate is refused by a donor that asks for one, token or not.
            ClientConfig noCertificate = ClientConfig.of(List.of(new java.net.InetSocketAddress("localhost",
                donor.dataAddress().getPort())), TOKEN).withTls(ClientTls.trusting(TLS.resolve("ca.pem")));
            assertThrows(PagePoolException.class, () -> PagePoolClient.connect(noCertificate).close());

            // Another CA: the donor's certificate does not chain to it, so the agent sends it nothing at all.
            long putsBefore = donorPuts(donor);
            String refused;
            try (AgentProcess wrong = AgentProcess.start(agentArgs(donor, dir.resolve("wrong"), "other-ca.pem"))) {
                Tool.run(60, "nbdcopy", dir.resolve("in.bin").toString(), wrong.uri());
                refused = wrong.output();
            } catch (AssertionError didNotServe) {
                refused = didNotServe.getMessage();
            }
            assertTrue(refused.contains("certification path"), "the agent says the donor's certificate was not trusted: " + refused);
            assertTrue(donorPuts(donor) == putsBefore, "no page reached the donor the agent does not trust");
            assertTrue(donor.isAlive());
        }
    }
}
