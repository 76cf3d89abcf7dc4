package dev.pagepool.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The cluster members that advertise one donor's address, first come first, each with the donor id it published
 * (or none). Any member may advertise any address (Hazelcast's open-source edition does not authenticate members),
 * so one member at most speaks for the donor: the first whose published id is the id the donor proved in its
 * handshake, or that published none. When it leaves the donor becomes suspect, and the next such member, if any,
 * takes its place. What the others say of the donor (that they left, what load it has) is ignored: a member that
 * published another id speaks of another process, one that is not listening at this address any more.
 */
final class Advertisers {
    /** What the departure of one member means for the donor. */
    enum Departure {
        /** The member that spoke for the donor left: the donor is suspect. */
        ADVERTISER,
        /** Another member left, or one never seen: nothing changes. */
        OTHER
    }

    /** Member -> the donor id it published, or {@link #NO_ID}; in the order they came. */
    private final LinkedHashMap<UUID, UUID> members = new LinkedHashMap<>();
    private static final UUID NO_ID = new UUID(0, 0);
    /** Whether any member ever advertised the donor: a donor named by --nodes alone is never unadvertised. */
    private boolean everAdvertised;

    synchronized void claim(UUID member, UUID donorId) {
        members.putIfAbsent(member, donorId == null ? NO_ID : donorId);
        everAdvertised = true;
    }

    /** {@code member} left; {@code provenId} is the id the donor proved (null before any handshake). */
    synchronized Departure leave(UUID member, UUID provenId) {
        boolean advertiser = member.equals(advertiser(provenId));
        members.remove(member);
        return advertiser ? Departure.ADVERTISER : Departure.OTHER;
    }

    /**
     * Whether {@code member} speaks for the donor that proved {@code provenId}: it is the advertiser, or no member
     * advertises the donor (a donor named by --nodes, or one whose members all left).
     */
    synchronized boolean speaksFor(UUID member, UUID provenId) {
        return members.isEmpty() || member.equals(advertiser(provenId));
    }

    /** The member that speaks for the donor that proved {@code provenId} (null: any), or null if none does. */
    synchronized UUID advertiser(UUID provenId) {
        for (Map.Entry<UUID, UUID> e : members.entrySet()) {
            UUID published = e.getValue();
            if (provenId == null || published.equals(NO_ID) || published.equals(provenId)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The donor id {@code member} published with the donor's address, or null if it published none or is unknown. */
    synchronized UUID published(UUID member) {
        UUID id = members.get(member);
        return id == null || id.equals(NO_ID) ? null : id;
    }

    /** Whether {@code member} advertises the donor (whether or not it speaks for it). */
    synchronized boolean claimed(UUID member) {
        return members.containsKey(member);
    }

    /** Whether every member that advertised the donor has left: once out of service it is forgotten. */
    synchronized boolean allLeft() {
        return everAdvertised && members.isEmpty();
    }
}
