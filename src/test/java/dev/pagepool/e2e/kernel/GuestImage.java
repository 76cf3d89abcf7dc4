package dev.pagepool.e2e.kernel;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The guest of the kernel swap tests, built from Debian's packages on this host: the kernel and its virtio and
 * nbd modules from {@code linux-image-cloud-amd64}, busybox from {@code busybox-static}, Debian's
 * {@code nbd-client} with the libraries it links, and the test program compiled static with gcc. Nothing is
 * downloaded: a missing package fails with the command that installs it.
 *
 * <p>The kernel is taken from the package's {@code .deb} when apt's cache has it (unpacked into a temporary
 * folder, so nothing is assumed about the host's own {@code /boot}), else from the files the installed package
 * put in {@code /boot} and {@code /lib/modules}. {@code -Dpagepool.kernel.deb=FILE} picks a {@code .deb}.
 */
public final class GuestImage implements AutoCloseable {
    /** What the guest loads, with what modules.dep says they need: disk, network and the kernel's NBD client. */
    private static final List<String> MODULES = List.of("virtio_pci", "virtio_blk", "virtio_net", "nbd");
    private static final String INSTALL = "apt-get install -y qemu-system-x86 linux-image-cloud-amd64 busybox-static "
        + "gcc libc6-dev kmod nbd-client nbdkit nbdkit-plugin-dev";

    private final Path dir;
    final Path kernel;
    final Path initramfs;
    final String kernelVersion;

    private GuestImage(Path dir, Path kernel, Path initramfs, String kernelVersion) {
        this.dir = dir;
        this.kernel = kernel;
        this.initramfs = initramfs;
        this.kernelVersion = kernelVersion;
    }

    /** Builds the kernel and initramfs into a new temporary folder, deleted by {@link #close()}. */
    public static GuestImage build() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pagepool-guest-");
        try {
            return build(dir);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            deleteTree(dir);
            throw e;
        }
    }

    private static GuestImage build(Path dir) throws IOException, InterruptedException {
        Path kernelRoot = kernelRoot(dir);
        Path modules;
        try (Stream<Path> s = Stream.of(kernelRoot.resolve("lib/modules"), kernelRoot.resolve("usr/lib/modules"))
                 .filter(Files::isDirectory).flatMap(GuestImage::list)) {
            modules = s.filter(p -> p.getFileName().toString().endsWith("-cloud-amd64") && Files.isDirectory(p.resolve("kernel")))
                .max(Comparator.naturalOrder())
                .orElseThrow(() -> new AssertionError("no cloud kernel modules under " + kernelRoot + ": " + INSTALL));
        }
        String version = modules.getFileName().toString();
        if (!Files.isRegularFile(modules.resolve("modules.dep"))) {
            // A .deb carries no modules.dep: the package's postinst makes it with depmod, so do the same here.
            Exec depmod = run(120, "depmod", "-b", kernelRoot.toString(), version);
            require(depmod.code == 0, "depmod -b " + kernelRoot + " " + version + " failed (apt-get install -y kmod):\n"
                + depmod.output);
        }
        Path vmlinuz = kernelRoot.resolve("boot/vmlinuz-" + version);
        require(Files.isRegularFile(vmlinuz), "no kernel " + vmlinuz + " for the modules in " + modules);

        Path busybox = Path.of("/bin/busybox");
        require(Files.isRegularFile(busybox), "no /bin/busybox: " + INSTALL);
        // The dynamic busybox of the "busybox" package would need a libc the initramfs does not carry.
        require(run(30, "ldd", busybox.toString()).output.contains("not a dynamic executable"),
            "/bin/busybox is not static: " + INSTALL);
        Path nbdClient = Path.of("/usr/sbin/nbd-client");
        require(Files.isRegularFile(nbdClient), "no /usr/sbin/nbd-client: " + INSTALL);

        Path source = dir.resolve("swaptest.c");
        copyResource("swaptest.c", source);
        Path program = dir.resolve("swaptest");
        Exec gcc = run(180, "gcc", "-static", "-O2", "-Wall", "-o", program.toString(), source.toString());
        require(gcc.code == 0, "gcc -static failed (" + INSTALL + "):\n" + gcc.output);

        Cpio cpio = new Cpio();
        for (String d : List.of("bin", "sbin", "dev", "proc", "sys", "tmp", "lib", "lib/modules", "lib64",
                "lib/x86_64-linux-gnu")) {
            cpio.dir(d);
        }
        // The kernel opens /dev/console for init before devtmpfs is mounted: without the node, init has no output.
        cpio.charDevice("dev/console", 5, 1);
        cpio.file("init", resource("init"), 0755);
        cpio.file("bin/busybox", Files.readAllBytes(busybox), 0755);
        cpio.file("swaptest", Files.readAllBytes(program), 0755);
        cpio.file("sbin/nbd-client", Files.readAllBytes(nbdClient), 0755);
        for (Map.Entry<String, Path> lib : libraries(nbdClient).entrySet()) {
            cpio.file(lib.getKey(), Files.readAllBytes(lib.getValue()), 0755);
        }
        List<String> order = moduleOrder(modules);
        Set<String> madeDirs = new LinkedHashSet<>();
        for (String m : order) {
            String target = "lib/modules/" + m;
            String parent = target.substring(0, target.lastIndexOf('/'));
            for (int i = "lib/modules/".length(); i <= parent.length(); i++) {
                if (i == parent.length() || parent.charAt(i) == '/') {
                    if (madeDirs.add(parent.substring(0, i))) {
                        cpio.dir(parent.substring(0, i));
                    }
                }
            }
            cpio.file(target, Files.readAllBytes(modules.resolve(m)), 0644);
        }
        cpio.file("modules.order", (String.join("\n", order) + "\n").getBytes(StandardCharsets.UTF_8), 0644);
        Path initramfs = dir.resolve("initramfs.cpio");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(initramfs))) {
            cpio.writeTo(out);
        }
        Path kernel = dir.resolve("vmlinuz");
        Files.copy(vmlinuz, kernel);
        if (!kernelRoot.equals(Path.of("/"))) {
            deleteTree(kernelRoot);
        }
        return new GuestImage(dir, kernel, initramfs, version);
    }

    /** Where the kernel's files are: an unpacked .deb in {@code dir}, or the host's root. */
    private static Path kernelRoot(Path dir) throws IOException, InterruptedException {
        Path deb = null;
        String chosen = System.getProperty("pagepool.kernel.deb", "");
        if (!chosen.isEmpty()) {
            deb = Path.of(chosen);
            require(Files.isRegularFile(deb), "-Dpagepool.kernel.deb=" + chosen + " is not a file");
        } else {
            // The meta package depends on one versioned kernel package; take that one's .deb from apt's cache.
            Exec depends = run(30, "dpkg-query", "-W", "-f=${Depends}", "linux-image-cloud-amd64");
            require(depends.code == 0, "linux-image-cloud-amd64 is not installed: " + INSTALL);
            Matcher m = Pattern.compile("(linux-image-[0-9][^ ,]*-cloud-amd64)").matcher(depends.output);
            require(m.find(), "cannot read the kernel package from: " + depends.output);
            String pkg = m.group(1);
            Exec ver = run(30, "dpkg-query", "-W", "-f=${Version}", pkg);
            Path cached = Path.of("/var/cache/apt/archives/" + pkg + "_" + ver.output.trim().replace(":", "%3a") + "_amd64.deb");
            if (ver.code == 0 && Files.isRegularFile(cached)) {
                deb = cached;
            } else {
                return Path.of("/");
            }
        }
        Path root = dir.resolve("kernel");
        Files.createDirectories(root);
        Exec x = run(300, "dpkg-deb", "-x", deb.toString(), root.toString());
        require(x.code == 0, "dpkg-deb -x " + deb + " failed:\n" + x.output);
        return root;
    }

    /** The modules to load, dependencies first, as paths relative to the modules folder. */
    static List<String> moduleOrder(Path modules) throws IOException {
        Map<String, List<String>> deps = new HashMap<>();
        Map<String, String> byName = new HashMap<>();
        for (String line : Files.readAllLines(modules.resolve("modules.dep"))) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String path = line.substring(0, colon);
            String rest = line.substring(colon + 1).trim();
            deps.put(path, rest.isEmpty() ? List.of() : List.of(rest.split("\\s+")));
            String file = path.substring(path.lastIndexOf('/') + 1);
            byName.put(file.substring(0, file.indexOf(".ko")).replace('-', '_'), path);
        }
        Set<String> builtin = new LinkedHashSet<>();
        Path builtinList = modules.resolve("modules.builtin");
        if (Files.isRegularFile(builtinList)) {
            for (String line : Files.readAllLines(builtinList)) {
                String file = line.substring(line.lastIndexOf('/') + 1);
                builtin.add(file.substring(0, file.indexOf(".ko")).replace('-', '_'));
            }
        }
        LinkedHashSet<String> order = new LinkedHashSet<>();
        for (String name : MODULES) {
            String path = byName.get(name);
            if (path == null) {
                require(builtin.contains(name), "module " + name + " is neither in modules.dep nor built in (" + modules + ")");
                continue;
            }
            addWithDeps(path, deps, order);
        }
        for (String m : order) {
            require(m.endsWith(".ko"), "module " + m + " is compressed; busybox insmod needs plain .ko files");
        }
        return new ArrayList<>(order);
    }

    private static void addWithDeps(String path, Map<String, List<String>> deps, LinkedHashSet<String> order) {
        // modules.dep lists every (transitive) dependency, the ones needed last first: load them in reverse.
        List<String> d = new ArrayList<>(deps.getOrDefault(path, List.of()));
        java.util.Collections.reverse(d);
        for (String dep : d) {
            if (!order.contains(dep)) {
                addWithDeps(dep, deps, order);
            }
        }
        order.add(path);
    }

    /** The shared libraries and the loader a dynamic binary needs, by the path ldd names them with. */
    private static Map<String, Path> libraries(Path binary) throws IOException, InterruptedException {
        Exec ldd = run(30, "ldd", binary.toString());
        require(ldd.code == 0, "ldd " + binary + ":\n" + ldd.output);
        Map<String, Path> libs = new LinkedHashMap<>();
        Pattern arrow = Pattern.compile("^\\s*(\\S+) => (/\\S+)");
        Pattern loader = Pattern.compile("^\\s*(/\\S+ld-linux\\S*)");
        for (String line : ldd.output.split("\n")) {
            Matcher a = arrow.matcher(line);
            Matcher l = loader.matcher(line);
            if (a.find()) {
                // Keep the soname in the multiarch folder (the loader's built-in path); the content is the real file.
                libs.put("lib/x86_64-linux-gnu/" + a.group(1), Path.of(a.group(2)).toRealPath());
            } else if (l.find()) {
                libs.put(l.group(1).substring(1), Path.of(l.group(1)).toRealPath());
            }
        }
        return libs;
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = GuestImage.class.getResourceAsStream("/kernel/" + name)) {
            if (in == null) {
                throw new AssertionError("test resource /kernel/" + name + " missing from the class path");
            }
            return in.readAllBytes();
        }
    }

    static void copyResource(String name, Path to) throws IOException {
        Files.write(to, resource(name));
    }

    private static Stream<Path> list(Path p) {
        try {
            return Files.list(p).toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }

    record Exec(int code, String output) {
    }

    /** Runs a host tool to completion within a bound; one that cannot start says what to install. */
    static Exec run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("pagepool-guest-tool-", ".log");
        try {
            Process p;
            try {
                p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            } catch (IOException e) {
                throw new AssertionError(command[0] + " cannot run (" + INSTALL + "): " + e.getMessage());
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
            }
            return new Exec(p.exitValue(), Files.readString(log));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Override
    public void close() throws IOException {
        deleteTree(dir);
    }

    /** An initramfs is a "newc" cpio archive; the kernel unpacks it uncompressed as well. */
    static final class Cpio {
        private final List<byte[]> parts = new ArrayList<>();
        private int inode = 1;

        void dir(String name) {
            entry(name, 0040755, new byte[0], 0, 0);
        }

        void file(String name, byte[] data, int perm) {
            entry(name, 0100000 | perm, data, 0, 0);
        }

        void charDevice(String name, int major, int minor) {
            entry(name, 0020600, new byte[0], major, minor);
        }

        private void entry(String name, int mode, byte[] data, int rdevMajor, int rdevMinor) {
            byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
            String header = String.format("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                name.equals("TRAILER!!!") ? 0 : inode++, mode, 0, 0, (mode & 0170000) == 0040000 ? 2 : 1, 0,
                data.length, 0, 0, rdevMajor, rdevMinor, n.length, 0);
            parts.add(header.getBytes(StandardCharsets.US_ASCII));
            parts.add(n);
            parts.add(new byte[pad(110 + n.length)]);
            parts.add(data);
            parts.add(new byte[pad(data.length)]);
        }

        private static int pad(int length) {
            return (4 - length % 4) % 4;
        }

        void writeTo(OutputStream out) throws IOException {
            entry("TRAILER!!!", 0, new byte[0], 0, 0);
            for (byte[] p : parts) {
                out.write(p);
            }
        }
    }
}
