package dev.pagepool.client;

import dev.pagepool.protocol.Frame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Whether a donor still holds this client's pools, asked on a fresh connection to it: a reconnect, a caller's lane,
 * a suspect donor that answers again. A donor that restarted, or whose lease ran out, answers a one-page GET of a
 * private pool with NO_SUCH_POOL, and a shared pool presented again under another id; reading on would read another
 * pool's pages under the old id.
 */
final class PoolCheck {
    private final ClientPools pools;

    PoolCheck(ClientPools pools) {
        this.pools = pools;
    }

    /** Checks that {@code fresh} reaches the same pools as before, one pool after the other; never waits. */
    <W extends DonorWire> CompletableFuture<W> verify(DonorLink link, W fresh) {
        CompletableFuture<Void> checked = CompletableFuture.completedFuture(null);
        for (PoolRef pool : pools) {
            int id = pool.idOn(link.index);
            if (id == PoolRef.NO_POOL) {
                continue;
            }
            checked = checked.thenCompose(v -> pool.spec().shared()
                // A shared pool is presented again on the new connection; the donor must answer with the id this
                // client uses, or the client would read another pool's pages under the old id.
                ? FrameCalls.newPool(fresh, pool.spec()).thenAccept(again -> {
                    if (again != id) {
                        throw new DonorUnavailableException("donor " + link.name() + " now gives shared pool id "
                            + again + " where it gave " + id + " (restarted)");
                    }
                })
                : intact(fresh, id).thenAccept(intact -> {
                    if (!intact) {
                        throw new DonorUnavailableException("donor " + link.name() + " no longer has pool " + id
                            + " (restarted, or the lease ran out)");
                    }
                }));
        }
        return checked.thenApply(v -> fresh);
    }

    /**
     * Why a suspect donor that answers again no longer has one of this client's private pools; null if none. Asks
     * one pool after the other; never waits.
     */
    CompletableFuture<String> missingPrivatePoolAsync(DonorLink link, DonorWire conn) {
        CompletableFuture<String> missing = CompletableFuture.completedFuture(null);
        for (PoolRef pool : pools) {
            int id = pool.idOn(link.index);
            if (id == PoolRef.NO_POOL || pool.spec().shared()) {
                continue;
            }
            missing = missing.thenCompose(found -> found != null ? CompletableFuture.completedFuture(found)
                : intact(conn, id).handle((intact, error) -> {
                    if (error == null) {
                        return intact ? null : "answers again without pool " + id + " (restarted, or the lease ran out)";
                    }
                    if (PagePoolException.causeOf(error) instanceof BadSecretException e) {
                        return "refuses pool " + id + " to this client's pool secret, which is not the one the pool"
                            + " was made with (another client's pool, or the secret was not kept): " + e.getMessage();
                    }
                    throw new CompletionException(PagePoolException.causeOf(error));
                }));
        }
        return missing;
    }

    /** Whether the donor still has the private pool: a one-page GET answers NO_SUCH_POOL if not. */
    private static CompletableFuture<Boolean> intact(DonorWire conn, int id) {
        return FrameCalls.get(conn, id, false, new long[] {0}, new int[] {0},
                PageSlots.contiguous(new byte[Frame.PAGE_BYTES]), new int[] {0}, 1, (i, s) -> { })
            .handle((v, error) -> {
                if (error == null) {
                    return true;
                }
                if (PagePoolException.causeOf(error) instanceof NoSuchPoolException) {
                    return false;
                }
                throw new CompletionException(PagePoolException.causeOf(error));
            });
    }
}
