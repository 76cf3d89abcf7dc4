package dev.pagepool.node.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.handback.HandbackSender;
import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.net.BufferReserve;
import dev.pagepool.node.pool.PoolRegistry;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A machine running short shrinks the donor's effective budget, moves its level, and gets its memory back. */
class PressureSamplerTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path proc;

    @Test
    void aShortMachineCutsTheBudgetAndThePressureGoingAwayRestoresIt() throws IOException, InterruptedException {
        try (PageStore store = new PageStore(new StoreSettings(64 * MIB, (int) MIB, true))) {
            ByteBuffer page = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
            Random random = new Random(1);
            byte[] data = new byte[PageStore.PAGE_SIZE];
            for (int i = 0; i < 512; i++) { // 2 MiB of ephemeral pages
                random.nextBytes(data);
                page.put(0, data);
                store.put(store.newScratch(), 1, false, 1, i, 0, page, 0);
            }
            DonorBudget budget = new DonorBudget(store, Watermarks.DEFAULT, 64 * MIB);
            HandbackSender sender = new HandbackSender(store, new BufferReserve(8 * MIB), new PoolRegistry(),
                new NodeCounters(), 1000);
            PressureSampler sampler = new PressureSampler();
            sampler.store = store;
            sampler.budget = budget;
            sampler.guard = new WatermarkGuard(store, budget, sender);
            sampler.signals = new PressureSignals(List.of(new MemAvailableSignal(proc, 256 * MIB)));

            // The store holds its 2 MiB arena and the 1 MiB chunk zeroed ahead of its next growth.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (store.stats().arenaReadyBytes() != MIB && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(3 * MIB, store.residentBytes());
            Files.writeString(proc.resolve("meminfo"), "MemAvailable: " + (256 * MIB - 2 * MIB) / 1024 + " kB\n");
            sampler.sample(); // short by 2 MiB: the budget becomes what the store holds - 2 MiB
            assertEquals(MIB, budget.effectiveBytes());
            assertEquals(0, store.stats().arenaReadyBytes(), "the chunk zeroed ahead went first");
            assertTrue(store.usedBytes() < Watermarks.DEFAULT.highBytes(MIB) || store.stats().pagesEphemeral() == 0,
                "ephemeral pages were evicted below high");
            assertTrue(store.arenaBytes() <= MIB, "empty chunks went back to the OS: " + store.arenaBytes());

            Files.writeString(proc.resolve("meminfo"), "MemAvailable: " + (4096 * MIB) / 1024 + " kB\n");
            sampler.sample();
            assertEquals(64 * MIB, budget.effectiveBytes(), "plenty available again: the operator's budget holds");
            assertEquals(WatermarkLevel.NORMAL, sampler.guard.level());
        }
    }
}
