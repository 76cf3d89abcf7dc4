package dev.pagepool.discovery;

import java.util.List;

/**
 * A donor member alone in a JVM, for tests that freeze or kill a whole process:
 * {@code DonorProcessMain clusterName members port name}. Prints {@code READY <uuid>} once joined.
 */
public final class DonorProcessMain {
    private DonorProcessMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        ClusterSettings settings = ClusterSettings.tcpIp(args[0], ClusterSettings.parseMembers(args[1]),
            Integer.parseInt(args[2]));
        DonorMember member = DonorMember.start(settings, new DonorEndpoint(args[3], "127.0.0.1", 7499, 8099),
            () -> DonorLoad.now(1 << 20, 0, 0, 0));
        System.out.println("READY " + member.uuid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
