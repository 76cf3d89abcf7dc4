package dev.pagepool.e2e;

import dev.pagepool.agent.launch.DonorProcess;
import dev.pagepool.agent.launch.DonorSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** Starting packaged donors for end-to-end tests: real processes on 127.0.0.1, always stopped afterwards. */
final class Donors {
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private Donors() {
    }

    static {
        // The packaged donor lives in the checkout; surefire passes its root.
        System.setProperty("pagepool.home", Path.of(System.getProperty("pagepool.root", "..")).toAbsolutePath().normalize().toString());
    }

    /**
     * Settings of a lone donor (no Hazelcast member) with the given token and capacity; with a token, its admin token
     * is {@link #adminToken} of it.
     */
    static DonorSettings lone(String name, String token, String capacity) {
        DonorSettings settings = DonorSettings.defaults(name).withToken(token).withCapacity(capacity)
            .with("pagepool.cluster.enabled", "false");
        return token.isEmpty() ? settings : settings.with("pagepool.admin.token", adminToken(token));
    }

    /** The admin token of a test donor whose data token is {@code token}: only it changes the donor. */
    static String adminToken(String token) {
        return token + "-admin";
    }

    /** A lone donor, started and ready. */
    static DonorProcess start(String name, String token, String capacity) {
        return start(lone(name, token, capacity));
    }

    static DonorProcess start(DonorSettings settings) {
        return DonorProcess.start(settings, READY_TIMEOUT);
    }

    static HttpResponse<String> http(DonorProcess donor, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(donor.httpUrl() + path)).timeout(Duration.ofSeconds(10));
        if (token != null && !token.isEmpty()) {
            b.header("Authorization", "Bearer " + token);
        }
        b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
