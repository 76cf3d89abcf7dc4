package dev.pagepool.node.pressure;

import dev.pagepool.node.config.NodeSettings;
import dev.pagepool.node.store.PageStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Reads the pressure signals every period, turns them into the effective budget, and has the watermarks
 * enforced. Its own thread, not an event loop: reading /proc and /sys is file I/O, and eviction rounds hold
 * the store lock for milliseconds.
 */
@ApplicationScoped
public class PressureSampler {
    private static final Logger LOG = Logger.getLogger(PressureSampler.class);

    @Inject
    NodeSettings settings;
    @Inject
    PageStore store;
    @Inject
    PressureSignals signals;
    @Inject
    DonorBudget budget;
    @Inject
    WatermarkGuard guard;

    private ScheduledExecutorService timer;
    private String lastBinding = "";

    void start(@Observes StartupEvent event) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pagepool-pressure");
            t.setDaemon(true);
            return t;
        });
        long period = settings.pressure().periodMillis();
        timer.scheduleWithFixedDelay(this::sample, 0, period, TimeUnit.MILLISECONDS);
        LOG.infof("%s; %s", settings.pressure(), settings.watermarks());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /** Asks for an enforcement round now (after a budget change), off the caller's thread. */
    public void sampleSoon() {
        if (timer != null && !timer.isShutdown()) {
            timer.execute(this::sample);
        }
    }

    void sample() {
        try {
            if (!signals.signals().isEmpty()) {
                long headroom = signals.headroomBytes(store.usedBytes());
                budget.applyHeadroom(headroom, store.residentBytes());
                long limit = budget.signalLimitBytes();
                // Logged when the signals start or stop cutting the operator's budget, not every period.
                String binding = limit >= 0 && limit < budget.operatorBytes() ? signals.binding() : "";
                if (!binding.equals(lastBinding)) {
                    if (binding.isEmpty()) {
                        LOG.infof("memory pressure gone: effective budget back to %d bytes", budget.effectiveBytes());
                    } else {
                        LOG.warnf("memory pressure (%s): effective budget cut to %d bytes (operator's %d)", binding,
                            budget.effectiveBytes(), budget.operatorBytes());
                    }
                    lastBinding = binding;
                }
            }
            guard.enforce();
        } catch (RuntimeException e) {
            LOG.errorf(e, "pressure sample failed; trying again next period");
        }
    }
}
