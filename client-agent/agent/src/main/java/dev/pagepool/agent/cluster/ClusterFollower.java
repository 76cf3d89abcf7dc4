package dev.pagepool.agent.cluster;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorListener;
import java.net.InetSocketAddress;

/**
 * Feeds a client its donors from the cluster's Hazelcast membership: donors that join are followed, and the loads
 * donors publish drive placement. Every event names the member it came from: any member may advertise any
 * address, so only the member that advertised a donor first speaks for it, and its departure makes the donor
 * suspect (copies kept, readmitted if it still answers), never gone. It lives in the agent so that the client
 * library needs no Hazelcast.
 */
public final class ClusterFollower implements DonorListener {
    private final PagePoolClient client;

    ClusterFollower(PagePoolClient client) {
        this.client = client;
    }

    /** Makes {@code client} follow {@code view} from now on, starting with the donors it already knows. */
    public static void follow(PagePoolClient client, ClusterView view) {
        ClusterFollower follower = new ClusterFollower(client);
        view.addListener(follower);
        for (DonorInfo donor : view.donors()) {
            follower.donorAdded(donor);
        }
    }

    @Override
    public void donorAdded(DonorInfo donor) {
        client.addDonor(address(donor), donor.memberUuid(), donor.donorId(), donor.freeBytes());
    }

    @Override
    public void donorRemoved(DonorInfo donor) {
        client.memberLeft(address(donor), donor.memberUuid());
    }

    @Override
    public void loadChanged(DonorInfo donor) {
        if (donor.loadKnown()) {
            client.reportFree(address(donor), donor.memberUuid(), donor.freeBytes());
        }
    }

    private static InetSocketAddress address(DonorInfo donor) {
        return InetSocketAddress.createUnresolved(donor.host(), donor.dataPort());
    }
}
