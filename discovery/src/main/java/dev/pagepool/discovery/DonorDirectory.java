package dev.pagepool.discovery;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Where the donors' shared state lives in Hazelcast, and how it is read back: endpoints are member attributes
 * ({@link DonorEndpoint}); loads are entries of the IMap {@value #LOAD_MAP}, keyed by member UUID
 * ({@link DonorLoad}). A donor is listed only while it is a member, whatever the map still holds.
 */
public final class DonorDirectory {
    public static final String LOAD_MAP = "pagepool.donor-load";

    private DonorDirectory() {
    }

    public static IMap<UUID, DonorLoad> loads(HazelcastInstance hazelcast) {
        return hazelcast.getMap(LOAD_MAP);
    }

    /** The donors among {@code members}, each with its load (or {@link DonorLoad#UNKNOWN}), ordered by name. */
    public static List<DonorInfo> donors(Collection<Member> members, Map<UUID, DonorLoad> loads) {
        List<DonorInfo> donors = new ArrayList<>();
        for (Member member : members) {
            DonorEndpoint.of(member).ifPresent(endpoint -> donors.add(
                DonorInfo.of(member.getUuid(), endpoint, loads.getOrDefault(member.getUuid(), DonorLoad.UNKNOWN))));
        }
        donors.sort(Comparator.comparing(DonorInfo::name).thenComparing(DonorInfo::memberUuid));
        return donors;
    }

    /** Entries outlive a silent donor by at most this long, should every removal path have failed. */
    static int loadTtlSeconds(ClusterSettings settings) {
        return (int) Math.max(10, 2 * settings.failureTimeout().toSeconds());
    }
}
