package dev.pagepool.node.net;

import dev.pagepool.node.config.DataTls;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;

/**
 * Turns on TLS for the data port from PEM files, through Vert.x's own TLS (the JDK's engine, AES-GCM on AES-NI).
 * The key and certificate are loaded here, before the port opens, so that a donor with a TLS configuration it
 * cannot use stops at start and says why, instead of listening and failing every handshake.
 */
final class DataPortTls {
    private DataPortTls() {
    }

    static void configure(NetServerOptions options, DataTls tls, Vertx vertx) {
        if (!tls.enabled()) {
            return;
        }
        PemKeyCertOptions pem = new PemKeyCertOptions()
            .setCertPath(tls.cert().toString())
            .setKeyPath(tls.key().toString());
        try {
            pem.getKeyManagerFactory(vertx);
        } catch (Exception e) {
            throw new IllegalStateException("cannot use pagepool.tls.cert=" + tls.cert() + " and pagepool.tls.key="
                + tls.key() + " for TLS on the data port: " + rootCause(e), e);
        }
        options.setSsl(true).setKeyCertOptions(pem);
        if (tls.clientCa() != null) {
            // On top of the token, not instead of it: the certificate says which host, the handshake still proves
            // the token and the owner key.
            options.setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED)
                .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(tls.clientCa().toString()));
        }
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
