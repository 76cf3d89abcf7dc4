package dev.pagepool.agent.metrics;

import dev.pagepool.nbd.NbdRequestObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The export's requests as Prometheus metrics: {@code pagepool_agent_nbd_request_seconds} (a histogram per
 * command), {@code pagepool_agent_nbd_bytes_total}, {@code pagepool_agent_nbd_errors_total} by command, and
 * {@code pagepool_agent_eio_replies_total} by cause.
 *
 * <p>Recorded on the NBD event loop for every request, so every meter is created here once and indexed by the
 * command's wire number: recording looks nothing up and allocates nothing.
 */
public final class NbdRequestMetrics implements NbdRequestObserver {
    /** Wire numbers 0..6 cover every command the export executes. */
    private static final int COMMANDS = 7;
    /** A 4 KiB request served from a donor's RAM takes tens of microseconds; a frozen donor costs seconds. */
    private static final Duration FASTEST = Duration.ofNanos(10_000);
    private static final Duration SLOWEST = Duration.ofSeconds(30);

    private final Timer[] latency = new Timer[COMMANDS];
    private final Counter[] bytes = new Counter[COMMANDS];
    private final Counter[] errors = new Counter[COMMANDS];
    private final Counter[] eio = new Counter[EioCause.values().length];

    public NbdRequestMetrics(MeterRegistry registry) {
        command(registry, READ, "read");
        command(registry, WRITE, "write");
        command(registry, FLUSH, "flush");
        command(registry, TRIM, "trim");
        command(registry, WRITE_ZEROES, "write_zeroes");
        for (EioCause cause : EioCause.values()) {
            eio[cause.ordinal()] = Counter.builder("pagepool.agent.eio.replies")
                .description("NBD requests answered EIO (the host sees an I/O error), by cause")
                .tag("cause", cause.tag)
                .register(registry);
        }
    }

    private void command(MeterRegistry registry, int command, String name) {
        latency[command] = Timer.builder("pagepool.agent.nbd.request")
            .description("Time from an NBD request's header to its reply")
            .tag("command", name)
            .publishPercentileHistogram()
            .minimumExpectedValue(FASTEST)
            .maximumExpectedValue(SLOWEST)
            .register(registry);
        bytes[command] = Counter.builder("pagepool.agent.nbd.bytes")
            .description("Bytes asked for by NBD requests")
            .tag("command", name)
            .baseUnit("bytes")
            .register(registry);
        errors[command] = Counter.builder("pagepool.agent.nbd.errors")
            .description("NBD requests answered with an error")
            .tag("command", name)
            .register(registry);
    }

    @Override
    public void requestDone(int command, long requestBytes, long nanos, int error, Throwable failure) {
        if (command < 0 || command >= COMMANDS || latency[command] == null) {
            return;
        }
        latency[command].record(nanos, TimeUnit.NANOSECONDS);
        bytes[command].increment(requestBytes);
        if (error != 0) {
            errors[command].increment();
            if (error == EIO) {
                eio[EioCause.of(failure).ordinal()].increment();
            }
        }
    }
}
