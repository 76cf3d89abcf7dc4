package dev.pagepool.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DonorLoadSamplerTest {
    @Test
    void pressureLevelFollowsOccupancy() {
        assertEquals(0, DonorLoadSampler.pressureLevel(1000, 0));
        assertEquals(0, DonorLoadSampler.pressureLevel(1000, 849));
        assertEquals(1, DonorLoadSampler.pressureLevel(1000, 850));
        assertEquals(2, DonorLoadSampler.pressureLevel(1000, 950));
        assertEquals(3, DonorLoadSampler.pressureLevel(1000, 1000));
        assertEquals(3, DonorLoadSampler.pressureLevel(500, 800), "capacity shrunk below use");
        assertEquals(3, DonorLoadSampler.pressureLevel(0, 0), "no budget at all");
    }
}
