package dev.pagepool.nbd;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a real NBD client as a process, bounded in time and always killed. A missing tool fails the test
 * (CI installs them), it is never a skip.
 */
record ToolRun(List<String> command, int exitCode, String output) {
    static ToolRun run(long timeoutSeconds, String... command) {
        Path log;
        Process process = null;
        try {
            log = Files.createTempFile("nbd-tool", ".log");
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds
                    + " s; output:\n" + read(log));
            }
            String out = read(log);
            Files.deleteIfExists(log);
            return new ToolRun(List.of(command), process.exitValue(), out);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command[0] + " (is it installed?): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command[0], e);
        } finally {
            if (process != null && process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    /** Fails unless the process exited with 0. */
    ToolRun ok() {
        if (exitCode != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + exitCode + ":\n" + output);
        }
        return this;
    }

    static void requireTool(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return;
            }
        }
        throw new AssertionError(name + " is not installed; the NBD tests need it (see docs/nbd.md)");
    }

    private static String read(Path log) {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "<unreadable: " + e + ">";
        }
    }
}
