package dev.pagepool.client;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS towards the donors' data ports.
 *
 * @param enabled        speak TLS (the donors must have {@code pagepool.tls.cert} and {@code pagepool.tls.key})
 * @param trustPem       PEM file of the CA (or the certificates) to trust; null trusts the JVM's default CAs
 * @param verifyHostname check that the donor's certificate names the host it was reached at. Off, any
 *                       certificate the trust accepts will do: acceptable only when that trust is a private CA
 *                       that signs donors alone
 */
public record ClientTls(boolean enabled, Path trustPem, boolean verifyHostname) {
    /** Plain TCP. */
    public static final ClientTls OFF = new ClientTls(false, null, true);

    public ClientTls {
        if (enabled && trustPem != null && !Files.isReadable(trustPem)) {
            throw new IllegalArgumentException("TLS trust file " + trustPem + " is not readable");
        }
    }

    /** TLS trusting the CA in {@code trustPem}, with host name verification. */
    public static ClientTls trusting(Path trustPem) {
        return new ClientTls(true, trustPem, true);
    }

    public ClientTls withoutHostnameVerification() {
        return new ClientTls(enabled, trustPem, false);
    }
}
