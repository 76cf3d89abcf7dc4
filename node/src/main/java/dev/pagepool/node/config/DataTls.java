package dev.pagepool.node.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TLS of the data port: a PEM certificate chain and its private key, or nothing (plain TCP).
 *
 * @param cert     the certificate chain; null when TLS is off
 * @param key      its private key; null when TLS is off
 * @param clientCa PEM CA a client's certificate must chain to ({@code pagepool.tls.client-ca}); null: clients
 *                 prove themselves by the token alone
 */
public record DataTls(Path cert, Path key, Path clientCa) {
    public static final DataTls OFF = new DataTls(null, null, null);

    public boolean enabled() {
        return cert != null;
    }

    /** Checks what can be checked without parsing: both or neither given, and both readable files. */
    static DataTls from(Optional<String> cert, Optional<String> key, Optional<String> clientCa, List<String> problems) {
        Optional<String> c = cert.filter(s -> !s.isBlank());
        Optional<String> k = key.filter(s -> !s.isBlank());
        Optional<String> ca = clientCa.filter(s -> !s.isBlank());
        if (c.isEmpty() && k.isEmpty()) {
            if (ca.isPresent()) {
                problems.add("pagepool.tls.client-ca asks clients for certificates, which needs TLS: set pagepool.tls.cert"
                    + " and pagepool.tls.key too");
            }
            return OFF;
        }
        if (c.isEmpty() || k.isEmpty()) {
            problems.add("pagepool.tls.cert and pagepool.tls.key go together: set both for TLS on the data port, or neither");
            return OFF;
        }
        Path certPath = Path.of(c.get());
        Path keyPath = Path.of(k.get());
        checkReadable(certPath, "pagepool.tls.cert", problems);
        checkReadable(keyPath, "pagepool.tls.key", problems);
        Path caPath = ca.map(Path::of).orElse(null);
        if (caPath != null) {
            checkReadable(caPath, "pagepool.tls.client-ca", problems);
        }
        return new DataTls(certPath, keyPath, caPath);
    }

    private static void checkReadable(Path file, String key, List<String> problems) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            problems.add(key + "=" + file + " is not a readable file");
        }
    }
}
