package dev.pagepool.agent.host;

/** The agent's start-up protection step alone, in a process of its own: a test chooses its limits and capabilities. */
public final class HostProtectionProbe {
    private HostProtectionProbe() {
    }

    public static void main(String[] args) throws java.io.IOException {
        HostProtection.restartFlaggedIfPossible(); // as the agent's main does first
        // What the kernel says of this process, beside what the agent reports of itself.
        java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
            .filter(l -> l.startsWith("THP_enabled:")).forEach(l -> System.out.println("kernel: " + l));
        HostProtection protection = HostProtection.apply();
        protection.report(System.out, System.out);
        try {
            protection.requireAll();
        } catch (IllegalStateException refused) {
            System.out.println(refused.getMessage());
            System.exit(3);
        }
    }
}
