package dev.pagepool.node.pressure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three readers against files laid out like /proc and /sys/fs/cgroup in a temporary directory. */
class PressureSignalsTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path root;

    private Path proc() {
        return root.resolve("proc");
    }

    private Path cgroup() {
        return root.resolve("cgroup");
    }

    private void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private void cgroupOf(String path, long max, long current) throws IOException {
        write(proc().resolve("self/cgroup"), "0::" + path + "\n");
        Path dir = cgroup().resolve(path.substring(1));
        write(dir.resolve("memory.max"), max < 0 ? "max\n" : max + "\n");
        write(dir.resolve("memory.current"), current + "\n");
    }

    @Test
    void cgroupHeadroomIsTheFractionOfMaxLessCurrent() throws IOException {
        cgroupOf("/kubepods/pod1/donor", 1000 * MIB, 900 * MIB);
        CgroupMemorySignal signal = new CgroupMemorySignal(proc(), cgroup(), 0.95);
        assertEquals(50 * MIB, signal.headroomBytes(0));
        write(cgroup().resolve("kubepods/pod1/donor/memory.current"), 990 * MIB + "\n");
        assertEquals(-40 * MIB, signal.headroomBytes(0), "short by 40 MiB");
        assertEquals("on", signal.status());
    }

    @Test
    void cgroupTightestAncestorLimitWins() throws IOException {
        cgroupOf("/pod/donor", -1, 100 * MIB); // no limit on the container's own cgroup
        write(cgroup().resolve("pod/memory.max"), 200 * MIB + "\n");
        write(cgroup().resolve("pod/memory.current"), 190 * MIB + "\n");
        CgroupMemorySignal signal = new CgroupMemorySignal(proc(), cgroup(), 1.0);
        assertEquals(10 * MIB, signal.headroomBytes(0));
    }

    @Test
    void cgroupWithoutAnyMaxSetsNoLimit() throws IOException {
        cgroupOf("/donor", -1, 100 * MIB);
        CgroupMemorySignal signal = new CgroupMemorySignal(proc(), cgroup(), 0.95);
        assertEquals(PressureSignal.UNCONSTRAINED, signal.headroomBytes(0));
        assertTrue(signal.status().startsWith("idle"), signal.status());
    }

    @Test
    void absentSourcesAreLoggedOnceAndSetNoLimit() {
        CgroupMemorySignal cgroup = new CgroupMemorySignal(proc(), cgroup(), 0.95);
        PsiMemorySignal psi = new PsiMemorySignal(proc(), 20.0);
        MemAvailableSignal meminfo = new MemAvailableSignal(proc(), 256 * MIB);
        for (int i = 0; i < 5; i++) {
            assertEquals(PressureSignal.UNCONSTRAINED, cgroup.headroomBytes(0));
            assertEquals(PressureSignal.UNCONSTRAINED, psi.headroomBytes(0));
            assertEquals(PressureSignal.UNCONSTRAINED, meminfo.headroomBytes(0));
        }
        assertEquals(1, cgroup.logged(), "logged once, not every period");
        assertEquals(1, psi.logged());
        assertEquals(1, meminfo.logged());
        assertTrue(cgroup.status().startsWith("off"), cgroup.status());
        assertTrue(psi.status().startsWith("off"), psi.status());
    }

    @Test
    void cgroupV1OnlyIsOff() throws IOException {
        write(proc().resolve("self/cgroup"), "12:memory:/docker/abc\n11:cpu:/docker/abc\n");
        CgroupMemorySignal signal = new CgroupMemorySignal(proc(), cgroup(), 0.95);
        assertEquals(PressureSignal.UNCONSTRAINED, signal.headroomBytes(0));
        assertTrue(signal.status().contains("cgroup v1"), signal.status());
    }

    @Test
    void oneAbsentSignalLeavesTheOthersWorking() throws IOException {
        write(proc().resolve("meminfo"), "MemTotal:  8000000 kB\nMemAvailable:   300000 kB\n");
        PressureSignals signals = new PressureSignals(List.of(
            new CgroupMemorySignal(proc(), cgroup(), 0.95),
            new PsiMemorySignal(proc(), 20.0),
            new MemAvailableSignal(proc(), 256 * MIB)));
        assertEquals(300000L * 1024 - 256 * MIB, signals.headroomBytes(0));
        assertEquals("meminfo", signals.binding());
    }

    @Test
    void psiAboveTheThresholdShedsAShareOfTheDonorsPages() throws IOException {
        write(proc().resolve("pressure/memory"),
            "some avg10=35.50 avg60=10.00 avg300=2.00 total=123456\nfull avg10=5.00 avg60=1.00 avg300=0.10 total=1234\n");
        PsiMemorySignal psi = new PsiMemorySignal(proc(), 20.0);
        assertEquals(-(160 * MIB / PsiMemorySignal.SHED_DIVISOR), psi.headroomBytes(160 * MIB));
        write(proc().resolve("pressure/memory"), "some avg10=3.00 avg60=10.00 avg300=2.00 total=123456\n");
        assertEquals(PressureSignal.UNCONSTRAINED, psi.headroomBytes(160 * MIB), "below the threshold: no limit");
    }

    @Test
    void malformedContentIsLoggedOnceAsBrokenAndRecovers() throws IOException {
        write(proc().resolve("pressure/memory"), "garbage\n");
        write(proc().resolve("meminfo"), "MemAvailable: lots\n");
        PsiMemorySignal psi = new PsiMemorySignal(proc(), 20.0);
        MemAvailableSignal meminfo = new MemAvailableSignal(proc(), MIB);
        for (int i = 0; i < 3; i++) {
            assertEquals(PressureSignal.UNCONSTRAINED, psi.headroomBytes(0));
            assertEquals(PressureSignal.UNCONSTRAINED, meminfo.headroomBytes(0));
        }
        assertEquals(1, psi.logged());
        assertEquals(1, meminfo.logged());
        write(proc().resolve("meminfo"), "MemAvailable: 2048 kB\n");
        assertEquals(MIB, meminfo.headroomBytes(0));
        assertEquals("on", meminfo.status());
        assertEquals(2, meminfo.logged(), "the recovery is logged once too");
    }

    @Test
    void malformedCgroupFilesAreBroken() throws IOException {
        cgroupOf("/donor", 100 * MIB, 0);
        write(cgroup().resolve("donor/memory.current"), "not a number\n");
        CgroupMemorySignal signal = new CgroupMemorySignal(proc(), cgroup(), 0.95);
        assertEquals(PressureSignal.UNCONSTRAINED, signal.headroomBytes(0));
        assertTrue(signal.status().startsWith("off"), signal.status());
    }
}
