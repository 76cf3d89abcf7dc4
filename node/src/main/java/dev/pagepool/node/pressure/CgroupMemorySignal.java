package dev.pagepool.node.pressure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * cgroup v2 memory: keep {@code memory.current} at or below a fraction of {@code memory.max}. The kernel
 * reclaims, then OOM-kills, a cgroup that reaches its max; the donor's arena is part of {@code memory.current},
 * so the donor is the one that should give way first.
 *
 * <p>The cgroup is found through {@code /proc/self/cgroup} (the v2 line {@code 0::/path}) under the mount
 * point. The limit that binds may be set on an ancestor (a pod's limit above a container's cgroup), so the
 * donor's cgroup and every ancestor up to the mount are checked and the tightest headroom wins. Under a cgroup
 * namespace the path is {@code /} and the mount root is the container's own cgroup, which works the same.
 */
public final class CgroupMemorySignal implements PressureSignal {
    private final Path procRoot;
    private final Path cgroupRoot;
    private final double maxFraction;
    private final SignalStatus status = new SignalStatus("cgroup");
    private List<Path> dirs;

    public CgroupMemorySignal(Path procRoot, Path cgroupRoot, double maxFraction) {
        this.procRoot = procRoot;
        this.cgroupRoot = cgroupRoot;
        this.maxFraction = maxFraction;
    }

    @Override
    public String name() {
        return "cgroup";
    }

    @Override
    public String status() {
        return status.current();
    }

    int logged() {
        return status.logged();
    }

    @Override
    public long headroomBytes(long donorUsedBytes) {
        try {
            if (dirs == null) {
                dirs = cgroupDirs();
                if (dirs == null) {
                    return UNCONSTRAINED;
                }
            }
            long tightest = UNCONSTRAINED;
            for (Path dir : dirs) {
                Path maxFile = dir.resolve("memory.max");
                if (!Files.exists(maxFile)) {
                    continue; // the mount root has no memory.max; neither do controllers not enabled here
                }
                String max = Files.readString(maxFile).trim();
                if (max.equals("max")) {
                    continue;
                }
                long limit = Long.parseLong(max);
                long current = Long.parseLong(Files.readString(dir.resolve("memory.current")).trim());
                tightest = Math.min(tightest, (long) Math.floor(maxFraction * limit) - current);
            }
            if (tightest == UNCONSTRAINED) {
                status.idle("no memory.max set on " + dirs.get(0) + " or its ancestors");
            } else {
                status.on();
            }
            return tightest;
        } catch (NoSuchFileException e) {
            status.off("no " + e.getFile());
            dirs = null;
            return UNCONSTRAINED;
        } catch (IOException | RuntimeException e) {
            status.broken("cannot read memory.max/memory.current under " + cgroupRoot + ": " + e);
            return UNCONSTRAINED;
        }
    }

    /** The donor's cgroup directory and its ancestors up to the mount, or null (logged) when there is none. */
    private List<Path> cgroupDirs() throws IOException {
        Path self = procRoot.resolve("self/cgroup");
        if (!Files.exists(self)) {
            status.off("no " + self);
            return null;
        }
        String relative = null;
        for (String line : Files.readAllLines(self)) {
            if (line.startsWith("0::")) {
                relative = line.substring(3).trim();
            }
        }
        if (relative == null) {
            status.off("no cgroup v2 entry (0::) in " + self + " (cgroup v1 is not read)");
            return null;
        }
        Path root = cgroupRoot.normalize();
        Path dir = root.resolve(relative.startsWith("/") ? relative.substring(1) : relative).normalize();
        if (!dir.startsWith(root)) {
            dir = root; // a path outside the mount (cgroup namespaces show "/.."): the mount is our cgroup
        }
        if (!Files.exists(dir.resolve("memory.current")) && !Files.exists(root.resolve("memory.max"))) {
            status.off("no memory.current in " + dir + " (memory controller not enabled, or no cgroup v2 mount)");
            return null;
        }
        List<Path> found = new ArrayList<>();
        for (Path d = dir; d != null && d.startsWith(root); d = d.getParent()) {
            found.add(d);
        }
        return found;
    }
}
