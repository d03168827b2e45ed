package dev.tunnelwire.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The module's scripts, driven from Java so that {@code mvn verify} on a fresh machine builds whatever is missing:
 * {@code scripts/ensure-docker.sh} (install/start the Docker engine) and {@code scripts/build-peers.sh} (build the
 * pinned peers into the cache, reuse them afterwards). Versions come from {@code peers/versions.properties}.
 *
 * <p>Locations: {@code -Dinterop.basedir} (set by the POM to the module directory); {@code -Dinterop.scripts} and
 * {@code -Dinterop.peersFile} override the two parts.
 */
final class PeerToolchain {

    private final Path scripts;
    private final Path peersFile;
    private final Properties versions = new Properties();

    PeerToolchain() {
        Path base = Path.of(System.getProperty("interop.basedir", ".")).toAbsolutePath().normalize();
        this.scripts = Path.of(System.getProperty("interop.scripts", base.resolve("scripts").toString()));
        this.peersFile = Path.of(System.getProperty("interop.peersFile",
                base.resolve("peers/versions.properties").toString()));
        try (Reader r = Files.newBufferedReader(peersFile, StandardCharsets.UTF_8)) {
            versions.load(r);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the pinned peer versions " + peersFile + ": " + e, e);
        }
    }

    Path peersFile() {
        return peersFile;
    }

    String version(String peer) {
        String v = versions.getProperty(peer + ".version");
        if (v == null) {
            throw new IllegalArgumentException("peer '" + peer + "' is not pinned in " + peersFile);
        }
        return v;
    }

    String property(String key) {
        return versions.getProperty(key);
    }

    /** Runs {@code ensure-docker.sh}; throws with its output when the engine cannot be made to answer. */
    String ensureDocker() {
        Result r = run(List.of(scripts.resolve("ensure-docker.sh").toString()), 300);
        if (r.exit != 0) {
            throw new IllegalStateException("the Docker engine is not available: scripts/ensure-docker.sh exited "
                    + r.exit + ".\n" + r.stderr + r.stdout
                    + "\n(run the matrix on a machine with Docker, use -Dinterop.runtime=process, or -DskipInterop)");
        }
        return r.stderr.strip();
    }

    /** Builds the peer if its cached binary is missing (idempotent) and returns the binary's path. */
    Path binary(String peer) {
        Result r = run(List.of(scripts.resolve("build-peers.sh").toString(), "--print-path", peer), 3600);
        String out = r.stdout.strip();
        String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1).strip();
        if (r.exit != 0 || last.isEmpty() || !Files.isExecutable(Path.of(last))) {
            throw new IllegalStateException("peer '" + peer + "' " + versions.getProperty(peer + ".version")
                    + " failed to build: scripts/build-peers.sh --print-path " + peer + " exited " + r.exit
                    + ".\n" + PortWait.tail(r.stderr) + r.stdout);
        }
        return Path.of(last);
    }

    /** The build stamp next to the binary ({@code <binary>.ok}), or empty. */
    static String buildStamp(Path binary) {
        try {
            Path ok = binary.resolveSibling(binary.getFileName() + ".ok");
            return Files.isRegularFile(ok) ? Files.readString(ok, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    record Result(int exit, String stdout, String stderr) {
    }

    static Result run(List<String> cmd, long timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(cmd)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, out.getNow(""), "timed out after " + timeoutSeconds + " s: " + cmd);
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            return new Result(-1, "", "cannot run " + cmd + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "", "interrupted: " + cmd);
        }
    }

    private static String drain(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code git rev-parse HEAD} of the working tree (plus {@code -dirty}), or {@code unknown}. */
    static String gitRevision(Path dir) {
        Result head = run(List.of("git", "-C", dir.toString(), "rev-parse", "HEAD"), 30);
        if (head.exit != 0) {
            return "unknown";
        }
        Result st = run(List.of("git", "-C", dir.toString(), "status", "--porcelain", "--untracked-files=no"), 30);
        return head.stdout.strip() + (st.exit == 0 && !st.stdout.isBlank() ? "-dirty" : "");
    }

    static List<String> lines(String s) {
        return new ArrayList<>(s.lines().toList());
    }
}
