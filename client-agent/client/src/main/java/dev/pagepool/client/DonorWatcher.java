package dev.pagepool.client;

import java.util.concurrent.TimeUnit;

/**
 * Watches the donors not in service, as a duty of the {@link ClientConductor}: a suspect donor silent past the stall
 * bound is taken for gone, a donor out of service that no cluster member advertises is forgotten, and a donor whose
 * next attempt is due is readmitted, in steps ({@link Readmission}), one readmission per donor at a time.
 */
final class DonorWatcher implements ControlDuty {
    /**
     * What the watcher may see of the donors and do to them, and no more: its owner's side for it, as the duties of
     * Aeron's driver talk to their conductor through a proxy.
     */
    interface Donors {
        boolean closed();

        /** Indexes in use or once used: the watch runs to here. */
        int count();

        DonorLink link(int donor);

        void takeOutOfService(DonorLink link, String reason);

        /** Forgets the donor if it is out of service and no cluster member advertises it any more. */
        void forgetIfUnadvertised(DonorLink link);

        /** A readmission of {@code link}, not yet stepped. */
        Readmission readmission(DonorLink link);
    }

    private final Donors donors;
    private final long stallTimeoutNanos;
    private final Readmission[] underway = new Readmission[DonorIndexes.MAX_DONORS];
    private final Period watch = new Period(TimeUnit.MILLISECONDS.toNanos(200), true);

    DonorWatcher(Donors donors, long stallTimeoutNanos) {
        this.donors = donors;
        this.stallTimeoutNanos = stallTimeoutNanos;
    }

    @Override
    public int doWork(long nowNanos) {
        if (donors.closed()) {
            return 0;
        }
        int work = 0;
        for (int d = 0; d < donors.count(); d++) {
            Readmission r = underway[d];
            if (r != null) {
                work += r.step();
                underway[d] = r.finished() ? null : r;
            }
        }
        if (watch.due(nowNanos)) {
            work += watch();
        }
        return work;
    }

    private int watch() {
        int work = 0;
        long bound = stallTimeoutNanos;
        for (int d = 0; d < donors.count(); d++) {
            DonorLink link = donors.link(d);
            if (underway[d] != null) {
                continue; // its readmission decides, and must not find it taken for gone halfway
            }
            if (link.suspectLongerThan(bound)) {
                donors.takeOutOfService(link, "silent for longer than the stall bound of "
                    + TimeUnit.NANOSECONDS.toMillis(bound) + " ms");
                work++;
            }
            donors.forgetIfUnadvertised(link);
            if (link.attemptDue()) {
                Readmission r = donors.readmission(link);
                work += r.step();
                underway[d] = r.finished() ? null : r;
            }
        }
        return work;
    }
}
