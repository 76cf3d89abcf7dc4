package dev.pagepool.client;

/**
 * The time every deadline of the client is measured against. Injected so that tests step time themselves and
 * script a timeout without sleeping, as Aeron's driver tests do.
 */
@FunctionalInterface
interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
