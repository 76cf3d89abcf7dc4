package dev.pagepool.e2e.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One boot of the test guest under QEMU's TCG emulation (no KVM needed): a small Linux whose only swap device is
 * an NBD export on 127.0.0.1, running the page-verifying program of {@code swaptest.c}. The guest has no network
 * of its own; either QEMU is the NBD client and the guest sees a virtio disk, or (for the kernel's own NBD
 * client) a restricted user-mode network whose one forwarded address leads to the export, or (with the agent
 * inside the guest) a user-mode network to the donors on the host. Closing it kills QEMU.
 */
public final class Guest implements AutoCloseable {
    /** The guest's NBD server address in {@link Mode#KERNEL_NBD}, forwarded by QEMU to the export. */
    static final String FORWARDED = "10.0.2.100:10809";

    public enum Mode {
        /** {@code -drive file=nbd://...,if=virtio}: QEMU's NBD client, the guest swaps on /dev/vda. */
        QEMU_NBD,
        /** The guest's nbd module and Debian's nbd-client, the README's how-to, swapping on /dev/nbd0. */
        KERNEL_NBD,
        /**
         * The agent runs inside the guest, from a read-only disk ({@link AgentDisk}), and reaches the donors on
         * the host through QEMU's user network (the host's loopback is 10.0.2.2); the guest's nbd-client puts
         * /dev/nbd0 on the agent's Unix socket. The kernel that swaps is the kernel the agent runs under.
         */
        AGENT_IN_GUEST
    }

    /** The host's loopback as the guest of {@link Mode#AGENT_IN_GUEST} reaches it. */
    public static final String HOST = "10.0.2.2";

    /**
     * @param memoryMib guest RAM
     * @param programMib memory the test program maps; 0 for 2.5x the guest's MemTotal
     * @param passes verifying passes after the fill
     */
    public record Options(int memoryMib, int programMib, int passes, int reconnectSeconds) {
        public Options(int memoryMib, int programMib, int passes) {
            this(memoryMib, programMib, passes, 0);
        }

        /**
         * 160 MiB of RAM (122 MiB MemTotal), so the program maps about 305 MiB; 3 passes after the fill, one of each
         * order. About 2.5 minutes under TCG on an idle 2-core machine.
         */
        public static Options standard() {
            return new Options(Integer.getInteger("pagepool.guest.memory", 160), Integer.getInteger("pagepool.guest.mib", 0),
                Integer.getInteger("pagepool.guest.passes", 3));
        }

        /** The same guest with one verifying pass: enough for a control that must fail. */
        public Options onePass() {
            return new Options(memoryMib, programMib, 1, reconnectSeconds);
        }

        /**
         * The same guest whose NBD client reconnects when the connection drops, waiting up to {@code seconds} for
         * the export to come back (QEMU's {@code reconnect-delay}) before it fails the requests: an agent that is
         * restarted behind the guest.
         */
        public Options reconnecting(int seconds) {
            return new Options(memoryMib, programMib, passes, seconds);
        }
    }

    private final Process process;
    private final Path console;
    private final long startNanos;

    private Guest(Process process, Path console) {
        this.process = process;
        this.console = console;
        this.startNanos = System.nanoTime();
    }

    /** Boots the guest against the export at {@code host:port}, name {@code export}. */
    public static Guest boot(GuestImage image, Mode mode, int port, String export, Options options) throws IOException {
        List<String> cmd = command(image, 1, options, mode == Mode.QEMU_NBD ? "disk" : "nbd", "");
        if (mode == Mode.QEMU_NBD) {
            cmd.addAll(List.of("-nic", "none",
                "-drive", options.reconnectSeconds() > 0
                    // The URI form takes no options of the NBD driver: reconnect-delay needs the spelled-out one.
                    ? "format=raw,file.driver=nbd,file.server.type=inet,file.server.host=127.0.0.1,file.server.port=" + port
                        + ",file.export=" + export + ",file.reconnect-delay=" + options.reconnectSeconds() + ",if=virtio,cache=none"
                    : "file=nbd://127.0.0.1:" + port + "/" + export + ",format=raw,if=virtio,cache=none"));
        } else {
            // restrict=on: the guest reaches nothing on the host or beyond, except the one forwarded address,
            // which QEMU connects to the export on 127.0.0.1.
            String[] guest = FORWARDED.split(":");
            cmd.addAll(List.of("-netdev", "user,id=n0,restrict=on,ipv6=off,net=10.0.2.0/24,guestfwd=tcp:" + guest[0] + ":"
                    + guest[1] + "-tcp:127.0.0.1:" + port,
                "-device", "virtio-net-pci,netdev=n0"));
        }
        return start(cmd);
    }

    /**
     * Boots a guest that runs the agent from {@code disk} ({@link Mode#AGENT_IN_GUEST}). Two virtual CPUs: the
     * agent's JVM and the program that swaps would otherwise take turns on one emulated CPU, which a host never
     * makes them do.
     *
     * @param squeezeAfterSeconds 0, or the seconds after the program's start when init halves the memory limit of
     *     the program's cgroup, so the guest's memory is squeezed further while it swaps
     */
    public static Guest bootWithAgent(GuestImage image, AgentDisk disk, Options options, int squeezeAfterSeconds)
        throws IOException {
        List<String> cmd = command(image, 2, options, "agent", " swaptest.squeeze=" + squeezeAfterSeconds);
        // The user network without restrict: the agent must reach the donors' ports on the host's loopback. The
        // guest runs nothing but the agent, nbd-client and the test program.
        // -cpu max: the JVM picks its code for the CPU it sees, and the richest one TCG has is the nearest to a host's.
        cmd.addAll(List.of("-cpu", "max",
            "-netdev", "user,id=n0,ipv6=off,net=10.0.2.0/24", "-device", "virtio-net-pci,netdev=n0",
            "-drive", "file=" + disk.image + ",format=raw,if=virtio,readonly=on",
            "-drive", "file=" + disk.scratch + ",format=raw,if=virtio,cache=unsafe"));
        return start(cmd);
    }

    private static List<String> command(GuestImage image, int cpus, Options options, String mode, String moreAppend) {
        return new ArrayList<>(List.of("qemu-system-x86_64", "-nodefaults", "-no-user-config",
            "-machine", "pc", "-accel", "tcg", "-smp", Integer.toString(cpus),
            "-m", Integer.toString(options.memoryMib()),
            "-kernel", image.kernel.toString(), "-initrd", image.initramfs.toString(),
            "-append", "console=ttyS0 rootfstype=ramfs panic=-1 loglevel=4 swaptest.mode=" + mode
                + " swaptest.mib=" + options.programMib() + " swaptest.passes=" + options.passes() + moreAppend,
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"));
    }

    private static Guest start(List<String> cmd) throws IOException {
        Path console = Files.createTempFile("pagepool-guest-console-", ".log");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(console.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("qemu-system-x86_64 cannot run (apt-get install -y qemu-system-x86): " + e.getMessage());
        }
        return new Guest(p, console);
    }

    /** The serial console so far (kernel messages and everything init and the program print). */
    public String console() {
        try {
            return Files.readString(console);
        } catch (IOException e) {
            return "<unreadable console " + console + ">";
        }
    }

    public Path consoleFile() {
        return console;
    }

    /** Waits until a console line starts with {@code prefix}; fails if the guest ends first or time runs out. */
    public void awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Pattern p = Pattern.compile("(?m)^" + Pattern.quote(prefix));
        while (!p.matcher(console()).find()) {
            if (!process.isAlive()) {
                throw new AssertionError("the guest ended before printing '" + prefix + "':\n" + console());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no '" + prefix + "' from the guest within " + timeout + ":\n" + console());
            }
            Thread.sleep(200);
        }
    }

    /** Waits for QEMU to exit (the guest powers off) and reads what the guest reported. */
    public Outcome await(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("the guest did not power off within " + timeout + " (console " + console + "):\n"
                + tail(console(), 120));
        }
        return Outcome.parse(console(), process.exitValue(), (System.nanoTime() - startNanos) / 1e9);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String tail(String text, int lines) {
        String[] all = text.split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }

    /**
     * What one boot reported.
     *
     * @param result the program's RESULT line, or null when it printed none
     * @param mismatches pages that did not read back as last written (-1 without a RESULT line)
     * @param exit the program's exit code as the supervisor saw it (-1 when the supervisor never finished)
     * @param kernelErrors swap and block I/O error lines in the guest's kernel log (-1 when not reported)
     * @param vmstat the guest's swap counters at the end
     * @param programSeconds the program's own run time
     * @param bootSeconds QEMU start to power-off
     */
    public record Outcome(String result, long mismatches, int exit, int kernelErrors, Map<String, Long> vmstat,
                          double programSeconds, double bootSeconds, int qemuExit, String console) {
        static Outcome parse(String console, int qemuExit, double bootSeconds) {
            String result = null;
            long mismatches = -1;
            double seconds = -1;
            int exit = -1;
            int errors = -1;
            Map<String, Long> vmstat = new LinkedHashMap<>();
            for (String raw : console.split("\n")) {
                String line = raw.strip();
                if (line.startsWith("RESULT ")) {
                    result = line;
                    mismatches = longField(line, "mismatches", -1);
                    Matcher s = Pattern.compile("seconds=([0-9.]+)").matcher(line);
                    seconds = s.find() ? Double.parseDouble(s.group(1)) : -1;
                } else if (line.startsWith("VMSTAT ")) {
                    String[] f = line.split(" ");
                    if (f.length == 3) {
                        vmstat.put(f[1], Long.parseLong(f[2]));
                    }
                } else if (line.startsWith("GUEST-DONE ")) {
                    exit = (int) longField(line, "exit", -1);
                    errors = (int) longField(line, "kernel_errors", -1);
                }
            }
            return new Outcome(result, mismatches, exit, errors, vmstat, seconds, bootSeconds, qemuExit, console);
        }

        private static long longField(String line, String key, long otherwise) {
            Matcher m = Pattern.compile("\\b" + key + "=(-?[0-9]+)").matcher(line);
            return m.find() ? Long.parseLong(m.group(1)) : otherwise;
        }

        public long pswpout() {
            return vmstat.getOrDefault("pswpout", -1L);
        }

        public long pswpin() {
            return vmstat.getOrDefault("pswpin", -1L);
        }

        /** Every page verified, the program exited 0, and the guest's kernel logged no swap or I/O error. */
        public boolean clean() {
            return result != null && result.startsWith("RESULT ok") && mismatches == 0 && exit == 0 && kernelErrors == 0;
        }

        /** One line for logs and benchmarks. */
        public String summary() {
            return String.format("%s | exit=%d kernel_errors=%d pswpin=%d pswpout=%d (%.0f MiB out) thp_swpout=%d | "
                    + "program %.1f s, boot %.1f s", result, exit, kernelErrors, pswpin(), pswpout(),
                pswpout() * 4096.0 / (1 << 20), vmstat.getOrDefault("thp_swpout", -1L), programSeconds, bootSeconds);
        }

        /** The lines a reader needs when a check failed: what the program and the guest kernel said. */
        public String evidence() {
            StringBuilder b = new StringBuilder();
            for (String line : console.split("\n")) {
                String l = line.strip();
                if (l.startsWith("RESULT") || l.startsWith("MISMATCH") || l.startsWith("PASS") || l.startsWith("KERNEL-ERROR")
                    || l.startsWith("GUEST-DONE") || l.startsWith("SETUP-FAILED") || l.startsWith("VMSTAT")
                    || l.startsWith("START") || l.startsWith("SWAP") || l.contains("error") || l.contains("Kernel panic")) {
                    b.append(l).append('\n');
                }
            }
            return b.toString();
        }
    }

    /**
     * Boots the guest once against an NBD export and prints its outcome: the benchmark's entry point.
     * Usage: {@code Guest PORT [EXPORT] [qemu|kernel]}; exits 0 only for a clean run.
     */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String export = args.length > 1 ? args[1] : "";
        Mode mode = args.length > 2 && args[2].equals("kernel") ? Mode.KERNEL_NBD : Mode.QEMU_NBD;
        Outcome o;
        try (GuestImage image = GuestImage.build(); Guest guest = boot(image, mode, port, export, Options.standard())) {
            o = guest.await(Duration.ofMinutes(Integer.getInteger("pagepool.guest.minutes", 30)));
        }
        System.out.println(o.evidence().strip());
        System.out.println("SUMMARY " + o.summary());
        System.exit(o.clean() ? 0 : 1);
    }
}
