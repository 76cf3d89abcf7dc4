package dev.pagepool.node.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagepool.node.metrics.NodeCounters;
import dev.pagepool.node.store.PageStore;
import dev.pagepool.node.store.Scratch;
import dev.pagepool.node.store.StoreSettings;
import dev.pagepool.protocol.PoolSpec;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lease sweep against a client that comes back while it runs. The interleaving is scripted: the sweep's
 * expiry callback is where the sweep has decided the client is gone and is about to destroy its pools; the
 * test makes the client reconnect and create a pool right there, on another thread, as an event loop would.
 */
class LeaseSweepTest {
    private static final long LEASE_MILLIS = 100;
    private static final long CLIENT = 7;

    private final PageStore store = new PageStore(new StoreSettings(16L << 20, 1 << 20, true));
    private final Scratch scratch = store.newScratch();
    private final PoolRegistry pools = new PoolRegistry();
    private final ClientLeases leases = new ClientLeases(LEASE_MILLIS);
    private final LeaseExpiry expiry = new LeaseExpiry(pools, store, new NodeCounters());

    @AfterEach
    void close() {
        store.close();
    }

    private Pool poolWithAPage() {
        Pool pool = pools.create(PoolSpec.privatePool(true), CLIENT, new dev.pagepool.protocol.OwnerKey(CLIENT, 1));
        ByteBuffer page = ByteBuffer.allocateDirect(PageStore.PAGE_SIZE);
        page.putLong(0, pool.id());
        assertEquals(PageStore.STORED, store.put(scratch, pool.id(), true, 1, 1, 0, page, 0));
        return pool;
    }

    /** Waits until {@code t} has finished or is blocked on a monitor; bounded. */
    private static void awaitDoneOrBlocked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.isAlive() && t.getState() != Thread.State.BLOCKED) {
            assertTrue(System.nanoTime() < deadline, "the reconnecting thread neither finished nor waited");
            Thread.sleep(1);
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aClientThatReconnectsWhileTheSweepDestroysKeepsThePoolsItMakesAfterwards() throws Exception {
        leases.connected(CLIENT);
        Pool before = poolWithAPage();
        leases.disconnected(CLIENT, 0);

        AtomicReference<Pool> madeAfterReconnect = new AtomicReference<>();
        AtomicReference<Thread> back = new AtomicReference<>();
        leases.sweep(LEASE_MILLIS, clientId -> {
            // The sweep has found the lease run out. Now the client reconnects (HELLO) and makes a pool.
            Thread reconnect = new Thread(() -> {
                leases.connected(CLIENT);
                madeAfterReconnect.set(poolWithAPage());
            }, "reconnecting client");
            back.set(reconnect);
            reconnect.start();
            try {
                awaitDoneOrBlocked(reconnect);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            expiry.expire(clientId);
        });
        back.get().join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(back.get().isAlive());

        Pool after = madeAfterReconnect.get();
        assertNotNull(after);
        assertNotNull(pools.find(after.id()), "the pool made after the reconnect was destroyed by the sweep");
        assertEquals(1, store.persistentPagesOf(after.id()), "its page is still stored");
        assertNull(pools.find(before.id()), "the pool of the expired lease is gone");
        assertEquals(0, store.persistentPagesOf(before.id()));
        assertEquals(1, store.persistentPages(), "no page of a destroyed pool is left behind");

        // The client is connected now: later sweeps leave it alone.
        leases.sweep(10 * LEASE_MILLIS, expiry::expire);
        assertNotNull(pools.find(after.id()));
    }

    @Test
    void aClientThatCameBackBeforeTheSweepKeepsItsPools() {
        leases.connected(CLIENT);
        Pool pool = poolWithAPage();
        leases.disconnected(CLIENT, 0);
        leases.connected(CLIENT);
        leases.sweep(10 * LEASE_MILLIS, expiry::expire);
        assertNotNull(pools.find(pool.id()));
        leases.disconnected(CLIENT, 50);
        leases.sweep(50 + LEASE_MILLIS - 1, expiry::expire);
        assertNotNull(pools.find(pool.id()), "the lease runs from the last disconnect");
        leases.sweep(50 + LEASE_MILLIS, expiry::expire);
        assertNull(pools.find(pool.id()));
        assertEquals(0, store.persistentPages());
    }
}
