package dev.pagepool.client;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The pools this client made or resumed and has not destroyed: what a donor's pool id stands for, and what a donor
 * that comes back must still hold. Read from any thread; changed only under the donor set's admission monitor,
 * which a readmission takes (without I/O) to see what changed while it set the donor's pools up.
 */
final class ClientPools implements Iterable<PoolRef> {
    private final List<PoolRef> pools = new CopyOnWriteArrayList<>();

    void add(PoolRef pool) {
        pools.add(pool);
    }

    void remove(PoolRef pool) {
        pools.remove(pool);
    }

    /** The pool with id {@code id} on donor {@code donor}, or null. */
    PoolRef withId(int donor, int id) {
        for (PoolRef pool : pools) {
            if (pool.idOn(donor) == id) {
                return pool;
            }
        }
        return null;
    }

    @Override
    public Iterator<PoolRef> iterator() {
        return pools.iterator();
    }
}
