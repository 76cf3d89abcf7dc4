package dev.pagepool.client;

import java.util.LinkedHashSet;
import java.util.UUID;

/**
 * The cluster members that advertise one donor's address, first come first. Any member may advertise any
 * address (Hazelcast's open-source edition does not authenticate members), so only the first one, the advertiser,
 * speaks for the donor: when it leaves the donor becomes suspect, and the next claimant, if any, takes its place.
 * What the others say of the donor (that they left, what load it has) is ignored.
 */
final class Advertisers {
    /** What the departure of one member means for the donor. */
    enum Departure {
        /** The advertiser left: the donor is suspect. */
        ADVERTISER,
        /** Another member left, or one never seen: nothing changes. */
        OTHER
    }

    private final LinkedHashSet<UUID> members = new LinkedHashSet<>();
    /** Whether any member ever advertised the donor: a donor named by --nodes alone is never unadvertised. */
    private boolean everAdvertised;

    synchronized void claim(UUID member) {
        members.add(member);
        everAdvertised = true;
    }

    synchronized Departure leave(UUID member) {
        boolean advertiser = !members.isEmpty() && members.iterator().next().equals(member);
        members.remove(member);
        return advertiser ? Departure.ADVERTISER : Departure.OTHER;
    }

    /** Whether {@code member} speaks for the donor: it is the advertiser, or no member advertises the donor yet. */
    synchronized boolean speaksFor(UUID member) {
        return members.isEmpty() || members.iterator().next().equals(member);
    }

    /** The member that speaks for the donor, or null. */
    synchronized UUID advertiser() {
        return members.isEmpty() ? null : members.iterator().next();
    }

    /** Whether every member that advertised the donor has left: once out of service it is forgotten. */
    synchronized boolean allLeft() {
        return everAdvertised && members.isEmpty();
    }
}
