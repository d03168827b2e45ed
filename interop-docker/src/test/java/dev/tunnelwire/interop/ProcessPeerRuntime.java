package dev.tunnelwire.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs each role as a plain child process: the files go into {@code <work>/<role>/}, which is also the working
 * directory; stdout and stderr go to {@code <role>.log} there. Same binaries and configs as the Docker runtime.
 */
final class ProcessPeerRuntime implements PeerRuntime {

    private final Path work;
    private final List<Running> started = new ArrayList<>();

    ProcessPeerRuntime(Path work) {
        this.work = work;
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public String describe() {
        return "plain processes on the host (" + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                + ")";
    }

    @Override
    public void prepare() throws IOException {
        Files.createDirectories(work);
    }

    @Override
    public Running start(PeerLaunch launch) throws Exception {
        Path dir = work.resolve(launch.role());
        Files.createDirectories(dir);
        String d = dir.toAbsolutePath().toString();
        for (String name : launch.files().keySet()) {
            Files.writeString(dir.resolve(name), launch.fileIn(name, d), StandardCharsets.UTF_8);
        }
        Path log = dir.resolve(launch.role() + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(launch.binary().toString());
        cmd.addAll(launch.argsIn(d));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Running r = new Running() {
            @Override
            public boolean isRunning() {
                return p.isAlive();
            }

            @Override
            public String logs() {
                try {
                    return Files.readString(log, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "(cannot read " + log + ": " + e + ")";
                }
            }

            @Override
            public void close() {
                p.destroy();
                try {
                    if (!p.waitFor(5, TimeUnit.SECONDS)) {
                        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        synchronized (started) {
            started.add(r);
        }
        try {
            PortWait.await(launch.role(), launch.ports(), Duration.ofSeconds(60), p::isAlive, r::logs);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    @Override
    public void close() {
        synchronized (started) {
            started.forEach(Running::close);
            started.clear();
        }
    }
}
