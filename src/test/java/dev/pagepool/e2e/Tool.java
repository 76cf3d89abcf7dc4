package dev.pagepool.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real client program (nbdinfo, nbdcopy, fio) run to completion within a bound; a missing one fails. */
record Tool(List<String> command, int exitCode, String output) {
    static Tool run(long timeoutSeconds, String... command) throws Exception {
        try (Running running = start(command)) {
            return running.finish(timeoutSeconds);
        }
    }

    /** Starts the program without waiting for it: a test can inject a fault and check it is still running. */
    static Running start(String... command) throws IOException {
        Path log = Files.createTempFile("pagepool-tool-", ".log");
        try {
            return new Running(List.of(command), new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start(), log);
        } catch (IOException e) {
            Files.deleteIfExists(log);
            throw new AssertionError(command[0] + " cannot run (.ci/run installs it): " + e.getMessage());
        }
    }

    /** A started program; closing it kills it with its children and deletes its log. */
    record Running(List<String> command, Process process, Path log) implements AutoCloseable {
        boolean isAlive() {
            return process.isAlive();
        }

        Tool finish(long timeoutSeconds) throws Exception {
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s:\n"
                    + Files.readString(log));
            }
            return new Tool(command, process.exitValue(), Files.readString(log));
        }

        @Override
        public void close() throws IOException {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    Tool ok() {
        if (exitCode != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + exitCode + ":\n" + output);
        }
        return this;
    }
}
