package dev.pagepool.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.agent.swap.SlotLostException;
import dev.pagepool.client.DonorUnavailableException;
import dev.pagepool.nbd.NbdRequestObserver;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** What an operator reads from the export's requests: counts and latency by command, and EIO replies by cause. */
class NbdRequestMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final NbdRequestMetrics metrics = new NbdRequestMetrics(registry);

    @Test
    void requestsAreCountedTimedAndSizedByCommand() {
        metrics.requestDone(NbdRequestObserver.WRITE, 65536, 150_000, 0, null);
        metrics.requestDone(NbdRequestObserver.WRITE, 4096, 50_000, 0, null);
        metrics.requestDone(NbdRequestObserver.READ, 4096, 2_000_000_000L, 0, null);
        String text = registry.scrape();
        assertTrue(text.contains("pagepool_agent_nbd_request_seconds_count{command=\"write\",} 2.0"), text);
        assertTrue(text.contains("pagepool_agent_nbd_bytes_total{command=\"write\",} 69632.0"), text);
        assertTrue(text.contains("pagepool_agent_nbd_request_seconds_count{command=\"read\",} 1.0"), text);
        assertTrue(bucketsSeparate(text), "a histogram fine enough below a millisecond:\n" + text);
        assertTrue(text.contains("pagepool_agent_nbd_request_seconds_bucket{command=\"read\",le=\"+Inf\",} 1.0"), text);
    }

    @Test
    void eioRepliesAreCountedByCause() {
        metrics.requestDone(NbdRequestObserver.READ, 4096, 1000, NbdRequestObserver.EIO,
            new CompletionException(new SlotLostException("slot 7 is lost")));
        metrics.requestDone(NbdRequestObserver.WRITE, 4096, 1000, NbdRequestObserver.EIO,
            new UncheckedIOException(new IOException("disk full of bad sectors")));
        metrics.requestDone(NbdRequestObserver.READ, 4096, 1000, NbdRequestObserver.EIO,
            new CompletionException(new DonorUnavailableException("gone")));
        metrics.requestDone(NbdRequestObserver.READ, 4096, 1000, NbdRequestObserver.EIO, new IllegalStateException());
        metrics.requestDone(NbdRequestObserver.WRITE, 4096, 1000, NbdRequestObserver.ENOSPC, null);
        String text = registry.scrape();
        for (String cause : new String[] {"lost", "disk", "cluster", "other"}) {
            assertTrue(text.contains("pagepool_agent_eio_replies_total{cause=\"" + cause + "\",} 1.0"), cause + "\n" + text);
        }
        assertTrue(text.contains("pagepool_agent_nbd_errors_total{command=\"write\",} 2.0"), "ENOSPC is an error, not EIO");
        assertEquals(4.0, registry.get("pagepool.agent.eio.replies").counters().stream()
            .mapToDouble(c -> c.count()).sum());
    }

    private static boolean bucketsSeparate(String text) {
        // Bucket bounds are Micrometer's; some bound between 50 µs and 150 µs counts the faster write only.
        return text.lines().filter(l -> l.startsWith("pagepool_agent_nbd_request_seconds_bucket{command=\"write\""))
            .anyMatch(l -> l.endsWith(" 1.0"));
    }
}
