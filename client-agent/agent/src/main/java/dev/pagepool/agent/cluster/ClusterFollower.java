package dev.pagepool.agent.cluster;

import dev.pagepool.client.PagePoolClient;
import dev.pagepool.discovery.ClusterView;
import dev.pagepool.discovery.DonorInfo;
import dev.pagepool.discovery.DonorListener;
import java.net.InetSocketAddress;

/**
 * Feeds a client its donors from the cluster's Hazelcast membership: donors that join are followed, donors that
 * leave or are declared dead are taken out of service at once (rather than at their first timeout), and the loads
 * donors publish drive placement. It lives in the agent so that the client library needs no Hazelcast.
 */
public final class ClusterFollower implements DonorListener {
    private final PagePoolClient client;

    private ClusterFollower(PagePoolClient client) {
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
        client.addDonor(address(donor), donor.freeBytes());
    }

    @Override
    public void donorRemoved(DonorInfo donor) {
        client.donorLeft(address(donor));
    }

    @Override
    public void loadChanged(DonorInfo donor) {
        if (donor.loadKnown()) {
            client.reportFree(address(donor), donor.freeBytes());
        }
    }

    private static InetSocketAddress address(DonorInfo donor) {
        return InetSocketAddress.createUnresolved(donor.host(), donor.dataPort());
    }
}
