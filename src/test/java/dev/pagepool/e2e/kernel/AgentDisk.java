package dev.pagepool.e2e.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The disks of a guest that runs the agent itself: a read-only ext4 image with a Java runtime cut down by
 * {@code jlink}, the shared libraries it links, the agent's jar and the script that starts it; and an empty
 * writable ext4 image for the agent's local disk. The runtime is on a disk rather than in the initramfs because
 * the initramfs is RAM the kernel can never reclaim, while pages of files on a disk can be dropped and read again:
 * the agent's code is then under the same memory pressure as on a host short of memory.
 *
 * <p>Built with the JDK that runs the tests ({@code jlink} and its {@code jmods}) and {@code mke2fs -d} from
 * e2fsprogs, which fills an image from a folder without root or a loop device.
 */
public final class AgentDisk implements AutoCloseable {
    /** What the agent needs of the platform: Netty (jdk.unsupported), JNA, JMX metrics, TLS's elliptic curves. */
    private static final String MODULES = "java.base,java.logging,java.management,java.naming,java.xml,java.sql,"
        + "jdk.unsupported,jdk.crypto.ec,jdk.management";
    /** Where the guest's init mounts the images. */
    public static final String MOUNT = "/opt";
    public static final String SCRATCH = "/var/pagepool";

    private final Path dir;
    final Path image;
    final Path scratch;

    private AgentDisk(Path dir, Path image, Path scratch) {
        this.dir = dir;
        this.image = image;
        this.scratch = scratch;
    }

    /**
     * Builds both images into a new temporary folder, deleted by {@link #close()}.
     *
     * @param agentJar the agent's self-contained jar
     * @param jvmOptions the options the launcher gives the agent's JVM ({@code pagepool agent-jvm-options})
     * @param agentArgs the arguments after {@code agent}
     * @param scratchBytes size of the writable image
     */
    public static AgentDisk build(Path agentJar, List<String> jvmOptions, List<String> agentArgs, long scratchBytes)
        throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pagepool-agent-disk-");
        try {
            Path root = dir.resolve("root");
            Files.createDirectories(root.resolve("lib"));
            Path jdk = root.resolve("jdk");
            Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
            // No compression of the modules: a class is then read straight from the mapped file, which costs less
            // than inflating it on an emulated CPU and leaves the kernel file pages it may drop.
            GuestImage.Exec cut = GuestImage.run(600, jlink.toString(), "--add-modules", MODULES, "--strip-debug",
                "--no-header-files", "--no-man-pages", "--output", jdk.toString());
            require(cut.code() == 0, "jlink failed (the JDK's jmods are in openjdk-17-jdk-headless):\n" + cut.output());
            // The class-data archive a JDK package ships (lib/server/classes.jsa), which jlink leaves out: without it
            // the JDK's classes are parsed into the agent's own memory (3.5 MiB more RSS, measured on the host).
            GuestImage.Exec cds = GuestImage.run(600, jdk.resolve("bin").resolve("java").toString(), "-Xshare:dump");
            require(cds.code() == 0, "java -Xshare:dump failed:\n" + cds.output());
            for (Map.Entry<String, Path> lib : libraries(jdk, nativeParts(agentJar, dir.resolve("native"))).entrySet()) {
                Files.copy(lib.getValue(), root.resolve("lib").resolve(lib.getKey()));
            }
            Files.copy(agentJar, root.resolve("agent.jar"));
            Path start = root.resolve("start-agent");
            Files.writeString(start, startScript(jvmOptions, agentArgs), StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(start, PosixFilePermissions.fromString("rwxr-xr-x"));

            Path image = dir.resolve("agent.ext4");
            long used;
            try (Stream<Path> s = Files.walk(root)) {
                used = s.filter(Files::isRegularFile).mapToLong(AgentDisk::size).sum();
            }
            mkfs(image, root, used + used / 4 + (16L << 20), "pagepool-agent");
            Path scratch = dir.resolve("scratch.ext4");
            mkfs(scratch, null, scratchBytes, "pagepool-disk");
            GuestImage.deleteTree(root); // the images hold it now
            return new AgentDisk(dir, image, scratch);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            GuestImage.deleteTree(dir);
            throw e;
        }
    }

    /** The script init runs: the agent's java command, as the launcher would exec it. */
    private static String startScript(List<String> jvmOptions, List<String> agentArgs) {
        List<String> cmd = new ArrayList<>(List.of("exec", MOUNT + "/jdk/bin/java"));
        cmd.addAll(jvmOptions);
        // JNA unpacks its native part to a folder it can write: the guest's root is RAM, /tmp is on it.
        cmd.addAll(List.of("-Djna.tmpdir=/tmp", "-Duser.home=/tmp", "-jar", MOUNT + "/agent.jar", "agent"));
        cmd.addAll(agentArgs);
        StringBuilder b = new StringBuilder("#!/bin/sh\n# Starts the agent as the pagepool launcher would.\n")
            .append("export MALLOC_ARENA_MAX=2 LD_LIBRARY_PATH=").append(MOUNT).append("/lib\n");
        for (String arg : cmd) {
            require(arg.matches("[A-Za-z0-9_./:,=+@%-]+"), "an argument the script would have to quote: " + arg);
        }
        return b.append(String.join(" ", cmd)).append('\n').toString();
    }

    /**
     * The x86-64 native libraries inside the jar (Netty's epoll transport, JNA's dispatch), unpacked into {@code to}:
     * they are loaded from a temporary copy at run time, and what they link must be on the disk too.
     */
    private static List<Path> nativeParts(Path jar, Path to) throws IOException {
        List<Path> parts = new ArrayList<>();
        Files.createDirectories(to);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                String name = e.getName();
                if (name.endsWith(".so") && (name.contains("x86_64") || name.contains("x86-64"))) {
                    Path part = to.resolve(parts.size() + "-" + name.substring(name.lastIndexOf('/') + 1));
                    try (InputStream in = zip.getInputStream(e)) {
                        Files.copy(in, part);
                    }
                    parts.add(part);
                }
            }
        }
        require(!parts.isEmpty(), "no x86-64 native library in " + jar + " (Netty's epoll transport is expected)");
        return parts;
    }

    /** The libraries that the runtime's binaries and {@code nativeParts} link, outside the runtime, by file name. */
    private static Map<String, Path> libraries(Path jdk, List<Path> nativeParts) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ldd", jdk.resolve("bin/java").toString()));
        try (Stream<Path> s = Files.walk(jdk.resolve("lib"))) {
            s.filter(p -> p.getFileName().toString().endsWith(".so")).forEach(p -> cmd.add(p.toString()));
        }
        nativeParts.forEach(p -> cmd.add(p.toString()));
        GuestImage.Exec ldd = GuestImage.run(60, cmd.toArray(String[]::new));
        Map<String, Path> libs = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*(\\S+) => (/\\S+)").matcher(ldd.output());
        while (m.find()) {
            if (!m.group(2).startsWith(jdk.toString())) {
                libs.put(m.group(1), Path.of(m.group(2)).toRealPath());
            }
        }
        require(libs.containsKey("libc.so.6"), "ldd found no libc for " + jdk + ":\n" + ldd.output());
        return libs;
    }

    private static void mkfs(Path image, Path from, long bytes, String label) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(mke2fs(), "-q", "-F", "-t", "ext4", "-L", label, "-m", "0"));
        if (from != null) {
            cmd.addAll(List.of("-d", from.toString()));
        }
        cmd.addAll(List.of(image.toString(), (bytes >> 10) + "k"));
        GuestImage.Exec mk = GuestImage.run(300, cmd.toArray(String[]::new));
        require(mk.code() == 0, "mke2fs failed (apt-get install -y e2fsprogs):\n" + mk.output());
    }

    private static String mke2fs() {
        for (String p : List.of("/sbin/mke2fs", "/usr/sbin/mke2fs")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new AssertionError("no mke2fs: apt-get install -y e2fsprogs");
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new AssertionError(message);
        }
    }

    @Override
    public void close() throws IOException {
        GuestImage.deleteTree(dir);
    }
}
