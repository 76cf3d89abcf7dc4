package dev.pagepool.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.client.ClientTls;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The agent's TLS options: what they turn on, and a clear refusal of those that do not fit together. */
class DonorOptionsTlsTest {
    @CommandLine.Command
    static final class Probe {
        @CommandLine.Mixin
        DonorOptions donors;
    }

    private static DonorOptions parse(String... args) {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs(args);
        return probe.donors;
    }

    @Test
    void withoutTlsCaPagesTravelInPlainTcp() {
        assertEquals(ClientTls.OFF, parse("--nodes", "h:1").tls());
    }

    @Test
    void tlsCaTrustsThatCaAndChecksTheHostNameAndACertificateComesWithItsKey(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        Path cert = Files.writeString(dir.resolve("cert.pem"), "cert");
        Path key = Files.writeString(dir.resolve("key.pem"), "key");
        ClientTls tls = parse("--tls-ca", ca.toString()).tls();
        assertTrue(tls.enabled() && tls.verifyHostname());
        assertEquals(ca, tls.trustPem());
        ClientTls mutual = parse("--tls-ca", ca.toString(), "--tls-cert", cert.toString(), "--tls-key", key.toString()).tls();
        assertEquals(cert, mutual.certPem());
        assertEquals(key, mutual.keyPem());
    }

    @Test
    void optionsThatDoNotFitTogetherOrFilesThatCannotBeReadAreRefusedSayingWhy(@TempDir Path dir) throws Exception {
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        Path cert = Files.writeString(dir.resolve("cert.pem"), "cert");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> parse("--tls-cert", cert.toString()).tls())
            .getMessage().contains("give --tls-ca too"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> parse("--tls-ca", ca.toString(), "--tls-cert", cert.toString()).tls()).getMessage().contains("go together"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> parse("--tls-ca", dir.resolve("missing.pem").toString()).tls()).getMessage().contains("not readable"));
    }
}
