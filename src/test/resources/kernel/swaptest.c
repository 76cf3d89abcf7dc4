/*
 * The guest side of the kernel swap tests: a program that makes a Linux kernel swap, and checks that every page
 * it swapped out comes back as it was. Built static by the test harness (gcc -static) and run in a small guest
 * whose only swap device is the export under test.
 *
 *   swaptest run [MIB [PASSES]]    maps MIB MiB (0 or none: 2.5x MemTotal), fills every 4 KiB page with content
 *                                  naming the page and its version, then makes PASSES verifying passes
 *                                  (sequential, scattered, backwards, ...) and rewrites a share of the pages with a
 *                                  new version in each pass. Prints one RESULT line; exits 1 on any mismatch.
 *   swaptest supervise CMD...      what /init execs into: mlockall'ed pid 1, so that none of the supervisor's
 *                                  pages depends on the device under test; runs CMD, then prints the kernel's
 *                                  swap counters and every swap or block I/O error in the kernel log, and powers
 *                                  the guest off.
 *   swaptest watch PID SECONDS     every SECONDS while PID lives: the guest's free memory and memory pressure, and
 *                                  for each thread of PID (and kswapd) that runs or waits in the kernel, its state
 *                                  and kernel stack. Locked in RAM and never forks: it can speak while the guest
 *                                  is short of memory, which is when its lines matter. While the guest stalls
 *                                  (memory pressure "full" above 50%), at most once a minute, it asks PID's JVM
 *                                  for a thread dump (SIGQUIT), and prints the TCP sockets with bytes queued.
 *
 * The harness on the host reads the serial console and relies on these lines, one per line:
 *   PASS <n> <order> verified=<pages> mismatches=<n> rewritten=<n> seconds=<s>
 *   RESULT ok|MISMATCH pages=<n> mib=<n> passes=<n> verified=<n> mismatches=<n> rewrites=<n> seconds=<s>
 *   VMSTAT <key> <value>            (pswpin, pswpout, thp_swpout, thp_swpout_fallback, pgmajfault)
 *   KERNEL-ERROR <kernel log line>  (one per error line found)
 *   GUEST-DONE exit=<code> kernel_errors=<n>
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define MAGIC 0x4c505050u /* "PPPL" */
#define RANDOM_BYTES 2032u /* after the 16-byte header: incompressible */
#define MOTIF 32u          /* the rest: a 32-byte motif repeated, which compresses well */

static uint64_t mix(uint64_t x) {
    /* splitmix64's finaliser: a good 64-bit hash, so neighbouring pages and versions share nothing */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Version `version` of page `page`: a header naming both, 2032 pseudo-random bytes, then a repeated motif. */
static void fill(unsigned char *p, uint32_t page, uint32_t version) {
    uint32_t header[4] = {MAGIC, page, version, (uint32_t)mix(((uint64_t)page << 32) | version)};
    memcpy(p, header, sizeof header);
    uint64_t s = mix(((uint64_t)version << 32) ^ page ^ 0x5157a9e5ull);
    for (unsigned i = 16; i < 16 + RANDOM_BYTES; i += 8) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        memcpy(p + i, &s, 8);
    }
    char motif[MOTIF + 1];
    snprintf(motif, sizeof motif, "page %08x version %08x  ", page, version);
    for (unsigned i = 16 + RANDOM_BYTES; i < PAGE; i += MOTIF) {
        memcpy(p + i, motif, MOTIF);
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile sig_atomic_t pass_now = -1;

/* A swap-in that fails with an I/O error reaches the program as SIGBUS: that is a failed check, said as one. */
static void on_fatal(int sig) {
    char line[160];
    int n = snprintf(line, sizeof line, "RESULT FATAL signal=%d pass=%d (a page could not be swapped in)\n", sig,
                     (int)pass_now);
    if (write(1, line, n) < 0) {
        /* nothing left to do */
    }
    _exit(2);
}

static long mem_total_mib(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    long kib = 0;
    char key[64];
    long value;
    if (f == NULL) {
        return 0;
    }
    while (fscanf(f, "%63s %ld kB\n", key, &value) == 2) {
        if (strcmp(key, "MemTotal:") == 0) {
            kib = value;
            break;
        }
    }
    fclose(f);
    return kib / 1024;
}

static uint32_t gcd(uint32_t a, uint32_t b) {
    while (b != 0) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int run(int argc, char **argv) {
    long mib = argc > 2 ? atol(argv[2]) : 0;
    if (mib == 0) {
        mib = mem_total_mib() * 5 / 2;
    }
    int passes = argc > 3 ? atoi(argv[3]) : 3;
    if (mib <= 0 || passes <= 0 || passes > 1000) {
        fprintf(stderr, "usage: swaptest run [MIB [PASSES]]\n");
        return 64;
    }
    signal(SIGBUS, on_fatal);
    signal(SIGSEGV, on_fatal);
    uint32_t pages = (uint32_t)(mib * (1024 * 1024 / PAGE));
    unsigned char *area = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* The expected versions are the ground truth: they must not live on the device under test. */
    uint32_t *version = mmap(NULL, (size_t)pages * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED || version == MAP_FAILED) {
        printf("RESULT FATAL mmap of %ld MiB failed: %s\n", mib, strerror(errno));
        return 2;
    }
    if (mlock(version, (size_t)pages * 4) != 0) {
        printf("RESULT FATAL mlock of the version table failed: %s\n", strerror(errno));
        return 2;
    }
    /* Huge pages where the kernel allows them (init turns THP on): THP swap-out writes 2 MiB at once. */
    madvise(area, (size_t)pages * PAGE, MADV_HUGEPAGE);
    printf("START pages=%u mib=%ld passes=%d memtotal_mib=%ld\n", pages, mib, passes, mem_total_mib());
    fflush(stdout);

    double t0 = now();
    pass_now = 0;
    for (uint32_t i = 0; i < pages; i++) {
        version[i] = 1;
        fill(area + (size_t)i * PAGE, i, 1);
    }
    printf("PASS 0 fill verified=0 mismatches=0 rewritten=%u seconds=%.1f\n", pages, now() - t0);
    fflush(stdout);

    /* Scattered order: i -> i * stride mod pages, a permutation when stride and pages are coprime. */
    uint32_t stride = (uint32_t)(pages * 0.618) | 1u;
    while (gcd(stride, pages) != 1) {
        stride += 2;
    }
    static const char *orders[] = {"sequential", "scattered-rewrite-heavy", "backwards", "scattered"};
    unsigned char *want = malloc(PAGE);
    uint64_t verified = 0, mismatches = 0, rewrites = 0;
    int reported = 0;
    for (int pass = 1; pass <= passes; pass++) {
        pass_now = pass;
        int kind = (pass - 1) % 4;
        /* A quarter of the pages get a new version in this pass (half in the rewrite-heavy one), so the next
         * pass reads pages that were swapped in, dirtied and swapped out again, the kernel's own rewrite path. */
        unsigned share = kind == 1 ? 2 : 4;
        double tp = now();
        uint64_t pass_mismatches = 0, pass_rewrites = 0;
        for (uint32_t k = 0; k < pages; k++) {
            uint32_t i = kind == 0 ? k : kind == 2 ? pages - 1 - k : (uint32_t)(((uint64_t)k * stride) % pages);
            unsigned char *p = area + (size_t)i * PAGE;
            fill(want, i, version[i]);
            if (memcmp(p, want, PAGE) != 0) {
                pass_mismatches++;
                if (reported++ < 20) {
                    uint32_t got[4];
                    memcpy(got, p, sizeof got);
                    unsigned diff = 0, first = PAGE;
                    for (unsigned b = 0; b < PAGE; b++) {
                        if (p[b] != want[b]) {
                            diff++;
                            first = first == PAGE ? b : first;
                        }
                    }
                    printf("MISMATCH page=%u want_version=%u found magic=%08x page=%u version=%u bytes_differing=%u"
                           " first_at=%u\n", i, version[i], got[0], got[1], got[2], diff, first);
                }
            }
            verified++;
            if (mix(((uint64_t)pass << 32) | i) % share == 0) {
                version[i]++;
                fill(p, i, version[i]);
                pass_rewrites++;
            }
        }
        mismatches += pass_mismatches;
        rewrites += pass_rewrites;
        printf("PASS %d %s verified=%u mismatches=%llu rewritten=%llu seconds=%.1f\n", pass, orders[kind], pages,
               (unsigned long long)pass_mismatches, (unsigned long long)pass_rewrites, now() - tp);
        fflush(stdout);
    }
    printf("RESULT %s pages=%u mib=%ld passes=%d verified=%llu mismatches=%llu rewrites=%llu seconds=%.1f\n",
           mismatches == 0 ? "ok" : "MISMATCH", pages, mib, passes, (unsigned long long)verified,
           (unsigned long long)mismatches, (unsigned long long)rewrites, now() - t0);
    fflush(stdout);
    return mismatches == 0 ? 0 : 1;
}

/* Lines of the kernel log that mean a swap or block I/O failed. */
static int is_error_line(const char *l) {
    static const char *needles[] = {"I/O error", "Read-error on swap", "Write-error on swap", "Buffer I/O error",
                                    "nbd0: ", "Out of memory", "blk_update_request", "bad swap", "swap_info_get",
                                    "swap_dup", "Bad swap", "blocked for more than", "oom-kill"};
    for (unsigned i = 0; i < sizeof needles / sizeof needles[0]; i++) {
        if (strstr(l, needles[i]) != NULL) {
            /* nbd's own "nbd0: detected capacity change" at connect is not an error */
            if (i == 4 && strstr(l, "capacity change") != NULL) {
                return 0;
            }
            return 1;
        }
    }
    return 0;
}

static void print_vmstat(void) {
    static const char *keys[] = {"pswpin", "pswpout", "thp_swpout", "thp_swpout_fallback", "pgmajfault"};
    FILE *f = fopen("/proc/vmstat", "r");
    char key[64];
    unsigned long long value;
    if (f == NULL) {
        printf("VMSTAT unreadable\n");
        return;
    }
    while (fscanf(f, "%63s %llu\n", key, &value) == 2) {
        for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strcmp(key, keys[i]) == 0) {
                printf("VMSTAT %s %llu\n", key, value);
            }
        }
    }
    fclose(f);
}

static int supervise(char **argv) {
    /* pid 1 must not fault on the device under test: every page it has or will get stays in RAM. */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        printf("SUPERVISOR mlockall failed: %s\n", strerror(errno));
    }
    fflush(stdout);
    int code;
    pid_t child = fork();
    if (child == 0) {
        execv(argv[2], argv + 2);
        printf("SUPERVISOR cannot exec %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    print_vmstat();

    int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    char *log = malloc(size > 0 ? (size_t)size + 1 : 1);
    int n = size > 0 ? klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size) : 0;
    int errors = 0;
    if (n < 0) {
        printf("KERNEL-ERROR cannot read the kernel log: %s\n", strerror(errno));
        errors++;
        n = 0;
    }
    log[n] = 0;
    for (char *line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (is_error_line(line)) {
            errors++;
            printf("KERNEL-ERROR %s\n", line);
        }
    }
    printf("GUEST-DONE exit=%d kernel_errors=%d\n", code, errors);
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return code;
}

/* The whole of a small /proc file into buf (NUL-terminated); its length, or -1. */
static int slurp(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) {
        return -1;
    }
    buf[n] = 0;
    return (int)n;
}

/* One thread's state; with its kernel stack when it is running or waiting uninterruptibly (where a stall shows). */
static void watch_thread(const char *dir, const char *label) {
    static char path[700], stat[1024], stack[4096];
    snprintf(path, sizeof path, "%s/stat", dir);
    if (slurp(path, stat, sizeof stat) < 0) {
        return;
    }
    char *close_paren = strrchr(stat, ')');
    char *open_paren = strchr(stat, '(');
    if (close_paren == NULL || open_paren == NULL || close_paren[1] == 0) {
        return;
    }
    char state = close_paren[2];
    unsigned long utime = 0, stime = 0; /* clock ticks on a CPU so far: a spinning thread's grow by 100 a second */
    sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    *close_paren = 0;
    if (state != 'R' && state != 'D') {
        return;
    }
    snprintf(path, sizeof path, "%s/stack", dir);
    if (slurp(path, stack, sizeof stack) < 0) {
        strcpy(stack, "?");
    }
    for (char *c = stack; *c; c++) {
        if (*c == '\n') {
            *c = '|';
        }
    }
    printf("WATCH-THREAD %s %s %c user=%lu system=%lu %.600s\n", label, open_paren + 1, state, utime, stime, stack);
}

/* The TCP sockets with bytes waiting to be sent or read (tx_queue:rx_queue of /proc/net/tcp, in hex). */
static void watch_sockets(void) {
    static char tcp[16384];
    if (slurp("/proc/net/tcp", tcp, sizeof tcp) < 0) {
        return;
    }
    for (char *l = strtok(tcp, "\n"); l != NULL; l = strtok(NULL, "\n")) {
        char local[64], remote[64];
        unsigned st, tx, rx;
        if (sscanf(l, " %*s %63s %63s %x %x:%x", local, remote, &st, &tx, &rx) == 5 && (tx != 0 || rx != 0)) {
            printf("WATCH-SOCKET %s -> %s state=%x tx_queue=%u rx_queue=%u\n", local, remote, st, tx, rx);
        }
    }
}

static int watch(pid_t pid, int seconds) {
    static char buf[8192], dir[600], line[512];
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
        printf("WATCH mlockall failed: %s\n", strerror(errno));
    }
    prctl(57 /* PR_SET_IO_FLUSHER */, 1, 0, 0, 0);
    char kswapd[300] = "";
    DIR *procs = opendir("/proc");
    for (struct dirent *e; procs != NULL && (e = readdir(procs)) != NULL;) {
        snprintf(dir, sizeof dir, "/proc/%s/comm", e->d_name);
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && slurp(dir, buf, sizeof buf) > 0
            && strncmp(buf, "kswapd", 6) == 0) {
            snprintf(kswapd, sizeof kswapd, "/proc/%s", e->d_name);
        }
    }
    if (procs != NULL) {
        closedir(procs);
    }
    double t0 = now(), dumped = -1e9;
    while (kill(pid, 0) == 0) {
        sleep((unsigned)seconds);
        long free_kib = -1, avail_kib = -1, writeback_kib = -1, swap_cached_kib = -1;
        if (slurp("/proc/meminfo", buf, sizeof buf) > 0) {
            for (char *l = strtok(buf, "\n"); l != NULL; l = strtok(NULL, "\n")) {
                sscanf(l, "MemFree: %ld", &free_kib);
                sscanf(l, "MemAvailable: %ld", &avail_kib);
                sscanf(l, "Writeback: %ld", &writeback_kib);
                sscanf(l, "SwapCached: %ld", &swap_cached_kib);
            }
        }
        line[0] = 0;
        if (slurp("/proc/pressure/memory", buf, sizeof buf) > 0) {
            snprintf(line, sizeof line, "%.500s", buf);
            for (char *c = line; *c; c++) {
                if (*c == '\n') {
                    *c = ' ';
                }
            }
        }
        printf("WATCH t=%.0f free_kib=%ld available_kib=%ld writeback_kib=%ld swap_cached_kib=%ld psi: %s\n",
               now() - t0, free_kib, avail_kib, writeback_kib, swap_cached_kib, line);
        snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
        DIR *tasks = opendir(dir);
        for (struct dirent *e; tasks != NULL && (e = readdir(tasks)) != NULL;) {
            if (e->d_name[0] != '.') {
                snprintf(dir, sizeof dir, "/proc/%d/task/%s", (int)pid, e->d_name);
                watch_thread(dir, "agent");
            }
        }
        if (tasks != NULL) {
            closedir(tasks);
        }
        if (kswapd[0] != 0) {
            watch_thread(kswapd, "kernel");
        }
        double full = 0;
        char *f = strstr(line, "full avg10=");
        if (f != NULL && sscanf(f, "full avg10=%lf", &full) == 1 && full > 50 && now() - dumped >= 60) {
            dumped = now();
            watch_sockets();
            printf("WATCH-DUMP the guest stalls (full avg10=%.0f): the agent's threads follow\n", full);
            fflush(stdout);
            kill(pid, SIGQUIT);
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        return run(argc, argv);
    }
    if (argc >= 3 && strcmp(argv[1], "supervise") == 0) {
        return supervise(argv);
    }
    if (argc == 4 && strcmp(argv[1], "watch") == 0) {
        return watch((pid_t)atoi(argv[2]), atoi(argv[3]));
    }
    fprintf(stderr, "usage: swaptest run [MIB [PASSES]] | swaptest supervise CMD [ARGS...] | swaptest watch PID SECONDS\n");
    return 64;
}
