/**
 * Hand-back: the donor giving persistent pages back to the clients that own them, in HANDBACK frames on their
 * own data connections, freeing each page only once the client has said it holds it (and only if the handle
 * still holds the version that was sent). {@link dev.pagepool.node.handback.HandbackSender} decides when and
 * how much; {@link dev.pagepool.node.handback.HandbackLink} runs the exchange on one connection's event loop.
 * Must not drop a persistent page: anything not acknowledged stays in the store.
 */
package dev.pagepool.node.handback;
