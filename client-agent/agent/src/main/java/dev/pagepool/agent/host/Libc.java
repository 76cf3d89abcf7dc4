package dev.pagepool.agent.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.StringArray;

/** The C library calls Java has no API for, through JNA; a failed call throws with its errno. */
interface Libc extends Library {
    int MCL_CURRENT = 1;
    int MCL_FUTURE = 2;
    /** Linux 4.4+. */
    int MCL_ONFAULT = 4;
    /** Linux 5.6+. */
    int PR_SET_IO_FLUSHER = 57;
    int PR_GET_IO_FLUSHER = 58;
    /** Linux 3.15+. */
    int PR_SET_THP_DISABLE = 41;
    int PR_GET_THP_DISABLE = 42;
    int EPERM = 1;
    int EINVAL = 22;

    int mlockall(int flags) throws LastErrorException;

    /** Replaces the process's program; returns only when it failed. {@code argv} ends with a null. */
    int execv(String path, StringArray argv) throws LastErrorException;

    /** Variadic in C; every option used here takes unsigned longs, which JNA passes as Java longs. */
    int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

    /** Loaded on first use, so that a host without JNA's native library fails the call, not the class. */
    static Libc load() {
        return Holder.INSTANCE;
    }

    final class Holder {
        private static final Libc INSTANCE = Native.load("c", Libc.class);

        private Holder() {
        }
    }
}
