package dev.pagepool.discovery;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Publishes the local donor's load into {@value DonorDirectory#LOAD_MAP} under its member UUID, every
 * {@link #DEFAULT_PERIOD} on one daemon thread, and removes it on {@link #close()}. Writes are asynchronous: a
 * slow or reorganising cluster never blocks the thread that samples the store. A member that rejoins after a
 * split gets a new UUID; the entry under the old one is removed when that is seen.
 */
public final class LoadPublisher implements AutoCloseable {
    public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(1);
    private static final System.Logger LOG = System.getLogger(LoadPublisher.class.getName());

    private final HazelcastInstance hazelcast;
    private final Supplier<DonorLoad> source;
    private final Duration period;
    private final ScheduledExecutorService timer;
    private UUID publishedAs;
    private boolean failing;

    public LoadPublisher(HazelcastInstance hazelcast, Supplier<DonorLoad> source, Duration period) {
        this.hazelcast = hazelcast;
        this.source = source;
        this.period = period;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "pagepool-load-publisher");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Publishes now, then every period. */
    public void start() {
        timer.scheduleWithFixedDelay(this::publishQuietly, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One publication, on the caller's thread; also what the timer runs. */
    synchronized void publishOnce() {
        IMap<UUID, DonorLoad> loads = DonorDirectory.loads(hazelcast);
        UUID uuid = hazelcast.getCluster().getLocalMember().getUuid();
        if (publishedAs != null && !publishedAs.equals(uuid)) {
            loads.removeAsync(publishedAs);
        }
        loads.setAsync(uuid, source.get());
        publishedAs = uuid;
    }

    private void publishQuietly() {
        if (!hazelcast.getLifecycleService().isRunning()) {
            return;
        }
        try {
            publishOnce();
            if (failing) {
                LOG.log(System.Logger.Level.INFO, "donor load is published again");
                failing = false;
            }
        } catch (RuntimeException e) {
            // Keep the timer alive: a member that is merging or shutting down refuses writes for a while.
            if (!failing) {
                LOG.log(System.Logger.Level.WARNING, "cannot publish donor load: " + e);
                failing = true;
            }
        }
    }

    /** Stops the timer only (the member is going away anyway: its entry is removed by the survivors). */
    void stop() {
        timer.shutdownNow();
    }

    /** Stops publishing and removes this donor's entry (best effort, bounded). */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (publishedAs == null || !hazelcast.getLifecycleService().isRunning()) {
                return;
            }
            try {
                DonorDirectory.loads(hazelcast).removeAsync(publishedAs).toCompletableFuture().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "could not remove donor load on leave: " + e);
            }
            publishedAs = null;
        }
    }
}
