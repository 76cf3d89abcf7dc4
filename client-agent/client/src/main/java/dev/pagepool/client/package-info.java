/**
 * The pagepool client: tmem's put, get and flush on pools spread over donors, with placement, replicas, failover,
 * re-replication and hand-back. {@link dev.pagepool.client.PagePoolClient} is the façade.
 *
 * <h2>The threading contract</h2>
 *
 * The client sits in the swap path: a page fault waits on it. Three rules hold in every class of this package.
 *
 * <h3>1. An event loop never blocks</h3>
 * <ul>
 *   <li>Replies are read on Vert.x event loops, and every future of this package may complete there, so its
 *       callbacks run there too. No code that an event loop or a future callback can reach calls
 *       {@code get()}/{@code join()}, waits on a semaphore or a condition, connects synchronously or sleeps.</li>
 *   <li>A full in-flight window does not wait: the request joins the connection's bounded backlog and leaves as
 *       replies free the window; a full backlog fails the request at once with {@code BusyException}, which the
 *       caller's retry path turns into a retry after a pause kept by the conductor, never on the loop
 *       ({@code DonorConnection}, {@code BusyRetry}, {@code BusyPauses}).</li>
 *   <li>Reconnecting is asynchronous: a closed connection is opened again, HELLO said and the donor's pools checked
 *       as a chain of futures; concurrent requests share one attempt ({@code DonorLink#reopen}).</li>
 *   <li>Monitors ({@code synchronized}) guard in-memory bookkeeping only (the extent map, a donor's state) and
 *       are never held across I/O or a wait.</li>
 *   <li>Only these may wait: the public synchronous methods of {@code PagePoolClient} (for the application's own
 *       threads), and the hand-back worker (which writes to disk). Every wait is bounded by the request or connect
 *       timeout. A synchronous method called on an event loop does not wait: it throws
 *       {@code IllegalStateException} at once ({@code ClientThreads#join}).</li>
 *   <li>The control work (BUSY pauses, readmission, the stall bound, load polling, re-replication and its pace) is
 *       one conductor, {@code ClientConductor#doWork(nowNanos)}, made of duties that never wait either: a step sends
 *       its request and returns, the reply only completes the step's future, and a later step acts on it. So
 *       readmission holds no monitor across a round trip ({@code Readmission}), and tests run the conductor by
 *       hand on a stepped clock. A BUSY pause is served before every other duty and after each, its end is handed
 *       back to the event loop that asked for it, and the control thread sleeps no longer than the earliest pause
 *       ({@code BusyPauses}). On a client run by hand a call that meets BUSY waits for the test's steps, so such
 *       tests make their calls asynchronously.</li>
 *   <li>A single-page call made on an event loop stays on it: its page joins that loop's batch for the tick and
 *       leaves, with the tick's other pages, in one frame per donor sent from the same loop
 *       ({@code RequestCoalescer}); replies complete the callers there. A call from any other thread is handed to one
 *       of the client's loops as a task and joins that loop's batch: one hand-off, to the thread that sends.</li>
 *   <li>A synchronous single-page call ({@code put}, {@code get}) made on an application thread while no other
 *       such call is under way runs on that thread ({@code CallerLanes}; callers of the same moment go to the
 *       coalescer, and their pages share frames): the same replicated code, but its frames go out on the thread's own
 *       connection to each donor ({@code CallerLane}) and the thread reads the replies itself, running the call's
 *       next steps as they come. Such a connection says HELLO as calls-only, so the donor sends it no requests of
 *       its own. A reply overdue past the request timeout closes it (the request fails as a timed-out one does on
 *       an event-loop connection), a donor taken out of service has these connections closed with its others, and a
 *       BUSY pause is taken on the caller's thread. A lane is opened before the thread's next call, never in the
 *       middle of one. Not used on event loops, nor with TLS, nor for shared pools. Which connection carries a
 *       frame is the call's choice, handed down to the replicated code as its {@code WireSource}: nothing about
 *       the thread, and nothing shared between two clients, decides it.</li>
 *   <li>Tests run every Vert.x instance with the blocked-thread checker at 100 ms ({@code -Deventloop.max-millis}
 *       raises it on a loaded machine) and fail on its first warning.</li>
 * </ul>
 *
 * <h3>2. These threads, and no others</h3>
 * <ul>
 *   <li>Vert.x event loops (the client's own Vert.x, or the one it was given): replies, frames sent again after a
 *       BUSY pause, timers (a request's stall pause) and the coalescer's batches.</li>
 *   <li>The application's threads: the synchronous calls, and a caller's own lane ({@code CallerLane}).</li>
 *   <li>{@code pagepool-control}: runs the conductor ({@code ControlThread}); none when a test runs it by
 *       hand.</li>
 *   <li>{@code pagepool-handback}: gives the pages donors hand back to the receiver, started on the first
 *       hand-back.</li>
 * </ul>
 * Nothing else in the client starts a thread, and nothing of it runs on a shared executor such as the common
 * ForkJoin pool ({@code ThreadContractTest}). The names are in {@code ClientThreads}.
 *
 * <h3>3. A page has one order</h3>
 * Writes, trims and flushes of one handle are applied in the order they were acknowledged, on every copy. The rules
 * that keep it (placement, copies, failures, fencing, re-replication) are in the repository's docs/replication.md.
 */
package dev.pagepool.client;
