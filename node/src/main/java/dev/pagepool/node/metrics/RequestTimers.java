package dev.pagepool.node.metrics;

import dev.pagepool.protocol.Opcode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * Service time of each request, by opcode, as {@code pagepool_request_seconds}. Timers are created once at
 * start and indexed by opcode, so recording a frame's time looks nothing up and allocates nothing.
 */
public final class RequestTimers {
    private static final int MAX_OPCODE = 16;
    private final Timer[] timers = new Timer[MAX_OPCODE];

    public RequestTimers(MeterRegistry registry) {
        for (int op = 0; op < MAX_OPCODE; op++) {
            if (Opcode.isKnown(op)) {
                timers[op] = Timer.builder("pagepool.request")
                    .description("Time to serve one request frame on the donor")
                    .tag("op", Opcode.name(op).toLowerCase())
                    .publishPercentileHistogram()
                    .register(registry);
            }
        }
    }

    public void record(int opcode, long nanos) {
        if (opcode > 0 && opcode < MAX_OPCODE && timers[opcode] != null) {
            timers[opcode].record(nanos, TimeUnit.NANOSECONDS);
        }
    }
}
