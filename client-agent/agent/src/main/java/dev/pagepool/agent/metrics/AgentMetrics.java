package dev.pagepool.agent.metrics;

import dev.pagepool.agent.swap.SwapCounters;
import dev.pagepool.agent.swap.SwapStore;
import dev.pagepool.client.ClientCounters;
import dev.pagepool.client.PagePoolClient;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * The agent's state as {@code pagepool_agent_*} Prometheus metrics, in the format the donor's {@code /q/metrics}
 * uses (Micrometer's Prometheus registry). Gauges and function counters read the swap store's and the client's
 * counters when scraped, so the data path pays nothing for them; the NBD requests are recorded by
 * {@link NbdRequestMetrics}.
 *
 * <p>What a host's operator asks: where is my swap (slots in the cluster, on disk, nowhere), how much fell back to
 * disk (spilled, handed back, read back), how exposed is it (under-replicated extents, lost extents and pages,
 * donors up and down), how is the repair going (re-replicated bytes), and did the host see errors (EIO by cause).
 */
public final class AgentMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final SlotCensus census;
    private final NbdRequestMetrics nbd;

    public AgentMetrics(SwapStore swap, PagePoolClient client) {
        this.census = new SlotCensus(swap);
        this.nbd = new NbdRequestMetrics(registry);
        slots(census);
        swapCounters(swap.counters());
        cluster(client);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Gauge.builder("pagepool.agent.export.bytes", swap, s -> (double) s.blocks() * SwapStore.BLOCK_BYTES)
            .description("Size of the NBD export").baseUnit("bytes").register(registry);
    }

    /** Records the export's requests; give it to the NBD server. */
    public NbdRequestMetrics nbdRequests() {
        return nbd;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition. Walks the slot map: call it off the event loops. */
    public String scrape() {
        census.refresh();
        return registry.scrape();
    }

    private void slots(SlotCensus c) {
        slotGauge("cluster", c, SlotCensus::cluster);
        slotGauge("disk", c, SlotCensus::disk);
        slotGauge("nowhere", c, SlotCensus::nowhere);
    }

    private void slotGauge(String place, SlotCensus c, ToDoubleFunction<SlotCensus> count) {
        Gauge.builder("pagepool.agent.slots", c, count)
            .description("Slots of the export by where their page lives: cluster RAM, the disk file, nowhere (zeros)")
            .tag("place", place)
            .register(registry);
    }

    private void swapCounters(SwapCounters s) {
        counter("pagepool.agent.pages.spilled", "Pages the cluster rejected that were written to the disk file",
            s, SwapCounters::spilledToDisk);
        counter("pagepool.agent.pages.handed.back", "Pages donors handed back that were written to the disk file",
            s, SwapCounters::handedBack);
        counter("pagepool.agent.pages.read.from.disk", "Pages read back from the disk file", s,
            SwapCounters::readFromDisk);
        counter("pagepool.agent.pages.read", "Pages read by the host", s, SwapCounters::read);
        counter("pagepool.agent.pages.written", "Pages written by the host, zero pages included", s,
            SwapCounters::written);
    }

    private void cluster(PagePoolClient client) {
        ClientCounters c = client.counters();
        Gauge.builder("pagepool.agent.extents.under.replicated", client, PagePoolClient::underReplicatedExtents)
            .description("Extents with fewer copies than their pool wants (being repaired)").register(registry);
        counter("pagepool.agent.extents.lost", "Extents whose every copy was lost with failed donors", c,
            ClientCounters::extentsLost);
        counter("pagepool.agent.pages.lost", "Pages whose every copy was lost", c, ClientCounters::pagesLost);
        counter("pagepool.agent.rereplicated.bytes", "Bytes copied to restore the replica count", c,
            ClientCounters::bytesReReplicated);
        counter("pagepool.agent.donor.failures", "Times a donor was taken out of service", c,
            ClientCounters::donorsDown);
        counter("pagepool.agent.donor.readmissions", "Times a donor that came back was readmitted", c,
            ClientCounters::donorsReadmitted);
        FunctionCounter.builder("pagepool.agent.busy.retries", c, x -> ClientCounters.busyRetriesInProcess())
            .description("Frames sent again because a donor answered BUSY (its reserve was in use)")
            .register(registry);
        Gauge.builder("pagepool.agent.donors", client, PagePoolClient::upCount)
            .description("Donors known to the agent, by state").tag("state", "up").register(registry);
        Gauge.builder("pagepool.agent.donors", client, PagePoolClient::suspectCount)
            .description("Donors known to the agent, by state").tag("state", "suspect").register(registry);
        Gauge.builder("pagepool.agent.donors", client, cl -> cl.knownDonors() - cl.upCount() - cl.suspectCount())
            .description("Donors known to the agent, by state").tag("state", "down").register(registry);
        counter("pagepool.agent.donors.suspect", "Times a donor stopped answering and its copies were kept, unused",
            c, ClientCounters::donorsSuspect);
        counter("pagepool.agent.stall.waits", "Pauses (50 ms each) of requests whose every copy was on a silent donor",
            c, ClientCounters::stallWaits);
    }

    private <T> void counter(String name, String description, T source, ToDoubleFunction<T> value) {
        FunctionCounter.builder(name, source, value).description(description).register(registry);
    }
}
