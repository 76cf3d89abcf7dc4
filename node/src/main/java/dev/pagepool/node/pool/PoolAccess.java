package dev.pagepool.node.pool;

/** Why a client may not use a pool; maps one-to-one onto request statuses. */
public enum PoolAccess {
    GRANTED,
    /** No pool with that id, or another client's private pool: both look the same so ids leak nothing. */
    NO_SUCH_POOL,
    /** A shared pool this connection has not presented the UUID of. */
    BAD_SECRET
}
