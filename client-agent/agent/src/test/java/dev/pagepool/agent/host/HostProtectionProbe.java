package dev.pagepool.agent.host;

/** The agent's start-up protection step alone, in a process of its own: a test chooses its limits and capabilities. */
public final class HostProtectionProbe {
    private HostProtectionProbe() {
    }

    public static void main(String[] args) {
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
