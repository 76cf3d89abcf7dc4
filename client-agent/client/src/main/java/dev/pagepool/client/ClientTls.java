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
 * @param certPem        PEM certificate chain this client presents, for donors that ask for one
 *                       ({@code pagepool.tls.client-ca}); null: none
 * @param keyPem         PEM private key of {@code certPem}; set with it or not at all
 */
public record ClientTls(boolean enabled, Path trustPem, boolean verifyHostname, Path certPem, Path keyPem) {
    /** Plain TCP. */
    public static final ClientTls OFF = new ClientTls(false, null, true);

    public ClientTls {
        if (enabled && trustPem != null && !Files.isReadable(trustPem)) {
            throw new IllegalArgumentException("TLS trust file " + trustPem + " is not readable");
        }
        if ((certPem == null) != (keyPem == null)) {
            throw new IllegalArgumentException("a client certificate needs both its certificate and its key, got "
                + (certPem == null ? "a key alone" : "a certificate alone"));
        }
        for (Path p : new Path[] {certPem, keyPem}) {
            if (enabled && p != null && !Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS client certificate file " + p + " is not readable");
            }
        }
    }

    /** Without a client certificate. */
    public ClientTls(boolean enabled, Path trustPem, boolean verifyHostname) {
        this(enabled, trustPem, verifyHostname, null, null);
    }

    /** TLS trusting the CA in {@code trustPem}, with host name verification. */
    public static ClientTls trusting(Path trustPem) {
        return new ClientTls(true, trustPem, true);
    }

    public ClientTls withoutHostnameVerification() {
        return new ClientTls(enabled, trustPem, false, certPem, keyPem);
    }

    /** The same, presenting the certificate {@code cert} with its key {@code key} to donors that ask for one. */
    public ClientTls withClientCertificate(Path cert, Path key) {
        return new ClientTls(enabled, trustPem, verifyHostname, cert, key);
    }
}
