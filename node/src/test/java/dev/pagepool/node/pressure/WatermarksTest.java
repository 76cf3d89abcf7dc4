package dev.pagepool.node.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.StoreSettings;
import org.junit.jupiter.api.Test;

class WatermarksTest {
    private final Watermarks marks = Watermarks.DEFAULT;

    @Test
    void levelFollowsUseAgainstTheBudget() {
        assertEquals(WatermarkLevel.NORMAL, marks.level(0, 1000));
        assertEquals(WatermarkLevel.NORMAL, marks.level(849, 1000));
        assertEquals(WatermarkLevel.HIGH, marks.level(850, 1000));
        assertEquals(WatermarkLevel.LOW, marks.level(950, 1000));
        assertEquals(WatermarkLevel.LOW, marks.level(1000, 1000), "full is LOW: puts stop, nothing is handed back");
        assertEquals(WatermarkLevel.MIN, marks.level(1001, 1000), "budget shrunk below use");
        assertEquals(WatermarkLevel.MIN, marks.level(800, 500));
        assertEquals(WatermarkLevel.MIN, marks.level(1, 0), "no budget at all with pages held");
        assertEquals(WatermarkLevel.NORMAL, marks.level(0, 0), "nothing held, nothing to do");
    }

    @Test
    void aMinBelowOneHandsBackBeforeTheBudgetIsFull() {
        Watermarks early = new Watermarks(0.5, 0.7, 0.8);
        assertEquals(WatermarkLevel.MIN, early.level(801, 1000));
        assertEquals(WatermarkLevel.LOW, early.level(800, 1000));
    }

    @Test
    void fractionsOutOfOrderAreAProblem() {
        assertTrue(marks.problems().isEmpty());
        assertFalse(new Watermarks(0.95, 0.85, 1.0).problems().isEmpty());
        assertFalse(new Watermarks(0.85, 0.95, 0.9).problems().isEmpty());
        assertFalse(new Watermarks(0.85, 0.95, 1.1).problems().isEmpty());
        assertFalse(new Watermarks(0, 0.95, 1.0).problems().isEmpty());
        assertTrue(new Watermarks(0.85, 1.0, 1.0).problems().isEmpty(), "low may equal min");
    }

    @Test
    void effectiveBudgetIsTheOperatorsCutByTheSignalsAndRestoredWhenThePressureGoes() {
        try (PageStore store = new PageStore(new StoreSettings(1000L << 20, 1 << 20, true))) {
            DonorBudget budget = new DonorBudget(store, marks, 1000L << 20);
            assertEquals(1000L << 20, store.capacityBytes());
            budget.applyHeadroom(-(30L << 20), 100L << 20); // arena 100 MiB, machine short by 30
            assertEquals(70L << 20, budget.effectiveBytes());
            assertEquals(70L << 20, store.capacityBytes());
            budget.applyHeadroom(-(500L << 20), 100L << 20);
            assertEquals(0, budget.effectiveBytes(), "never below 0");
            budget.setOperatorBytes(50L << 20);
            budget.applyHeadroom(PressureSignal.UNCONSTRAINED, 100L << 20);
            assertEquals(50L << 20, budget.effectiveBytes(), "pressure gone: the operator's budget holds");
            assertEquals(-1, budget.signalLimitBytes());
            budget.applyHeadroom(10L << 20, 20L << 20);
            assertEquals(30L << 20, budget.effectiveBytes(), "min(operator, arena + headroom)");
        }
    }
}
