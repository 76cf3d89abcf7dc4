package dev.pagepool.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real client program (nbdinfo, nbdcopy, fio) run to completion within a bound; a missing one fails. */
record Tool(List<String> command, int exitCode, String output) {
    static Tool run(long timeoutSeconds, String... command) throws Exception {
        Path log = Files.createTempFile("pagepool-tool-", ".log");
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError(command[0] + " cannot run (.ci/run installs it): " + e.getMessage());
        }
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s:\n"
                    + Files.readString(log));
            }
            return new Tool(List.of(command), p.exitValue(), Files.readString(log));
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
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
