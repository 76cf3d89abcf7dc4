/*
 * The negative control of the kernel swap tests: an nbdkit filter that flips one byte in some reads, so that a
 * device in front of `nbdkit memory` hands back pages other than the ones written. The swap test harness must
 * then report mismatches; if it passed, it could not tell a good export from a bad one.
 *
 * Built by the harness: gcc -shared -fPIC -o corrupt.so corrupt-filter.c (needs nbdkit-plugin-dev), run as
 *   nbdkit --filter=./corrupt.so memory 1G corrupt-every=N
 * It leaves the first 4 KiB alone (the swap header, or swapon would refuse the device and nothing be checked)
 * and flips a byte in the middle of the first page of every N-th read request after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nbdkit-filter.h>

static unsigned every = 50;
static uint64_t reads;
static uint64_t flipped;

static int corrupt_config(nbdkit_next_config *next, nbdkit_backend *nxdata, const char *key, const char *value) {
    if (strcmp(key, "corrupt-every") == 0) {
        every = (unsigned)strtoul(value, NULL, 10);
        if (every == 0) {
            nbdkit_error("corrupt-every must be at least 1");
            return -1;
        }
        return 0;
    }
    return next(nxdata, key, value);
}

static int corrupt_pread(nbdkit_next *next, void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t flags,
                         int *err) {
    (void)handle;
    if (next->pread(next, buf, count, offset, flags, err) == -1) {
        return -1;
    }
    if (offset >= 4096 && count >= 4096) {
        uint64_t n = __atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
        if (n % every == 0) {
            ((unsigned char *)buf)[2100] ^= 0x5a;
            uint64_t f = __atomic_add_fetch(&flipped, 1, __ATOMIC_RELAXED);
            if (f <= 5 || f % 1000 == 0) {
                nbdkit_debug("corrupt: flipped a byte in read %llu at offset %llu (%llu flips)", (unsigned long long)n,
                             (unsigned long long)offset, (unsigned long long)f);
            }
        }
    }
    return 0;
}

static void corrupt_unload(void) {
    nbdkit_debug("corrupt: %llu data reads, %llu flipped", (unsigned long long)reads, (unsigned long long)flipped);
}

static struct nbdkit_filter filter = {
    .name = "corrupt",
    .longname = "flips a byte in some reads (a negative control)",
    .config = corrupt_config,
    .config_help = "corrupt-every=<N>  flip a byte in every N-th read after the first 4 KiB (default 50)",
    .pread = corrupt_pread,
    .unload = corrupt_unload,
};

NBDKIT_REGISTER_FILTER(filter)
