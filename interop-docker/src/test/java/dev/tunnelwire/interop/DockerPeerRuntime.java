package dev.tunnelwire.interop;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs each role in a Testcontainers container: the image is built {@code FROM scratch} through
 * {@link ImageFromDockerfile} with just the static peer binary (once per peer and run; Docker's layer cache makes later
 * runs cheap), the role's files are copied into {@code /peer} before start (no bind mounts), the container uses host
 * networking and the peer listens on 127.0.0.1 only. The wait strategy is a TCP connect to each of the role's ports.
 *
 * <p>Testcontainers needs {@code TESTCONTAINERS_RYUK_DISABLED}, {@code TESTCONTAINERS_HOST_OVERRIDE} and
 * {@code TESTCONTAINERS_CHECKS_DISABLE} on these machines; the POM sets them for the test JVM.
 */
final class DockerPeerRuntime implements PeerRuntime {

    static final String DIR = "/peer";

    /**
     * {@code -Dinterop.peerImages=official}: for machines without Go but with an image registry, take the peers from
     * their official images at the pinned versions instead of building them (their entrypoint is the peer binary, as
     * in ours). {@code -Dinterop.image.<peer>=<image>} overrides one. sing-box publishes no {@code with_grpc} image.
     */
    static final Map<String, String> OFFICIAL = Map.of(
            "singbox", "ghcr.io/sagernet/sing-box:v%s",
            "xray", "ghcr.io/xtls/xray-core:%s",
            "gost", "gogost/gost:%s");

    private final PeerToolchain toolchain;
    private final Map<String, ImageFromDockerfile> images = new ConcurrentHashMap<>();
    private final List<Running> started = new ArrayList<>();
    private String engine = "docker (not prepared)";

    DockerPeerRuntime(PeerToolchain toolchain) {
        this.toolchain = toolchain;
    }

    @Override
    public String name() {
        return "docker";
    }

    @Override
    public String describe() {
        return engine;
    }

    @Override
    public void prepare() {
        for (String v : List.of("TESTCONTAINERS_RYUK_DISABLED", "TESTCONTAINERS_HOST_OVERRIDE",
                "TESTCONTAINERS_CHECKS_DISABLE")) {
            if (System.getenv(v) == null) {
                throw new IllegalStateException("environment variable " + v + " is not set: the build sets it for "
                        + "the test JVM (interop-docker/pom.xml); without it Testcontainers tries to pull images "
                        + "from a registry these machines cannot reach");
            }
        }
        toolchain.ensureDocker();
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new IllegalStateException("Testcontainers cannot reach the Docker engine although "
                    + "scripts/ensure-docker.sh reported it up");
        }
        var v = DockerClientFactory.instance().client().versionCmd().exec();
        engine = "docker engine " + v.getVersion() + " (API " + v.getApiVersion() + "), Testcontainers "
                + DockerClientFactory.class.getPackage().getImplementationVersion() + ", host network";
    }

    private static boolean official() {
        return "official".equals(System.getProperty("interop.peerImages", "built"));
    }

    private String officialImage(String peer) {
        String override = System.getProperty("interop.image." + peer);
        if (override != null) {
            return override;
        }
        String pattern = OFFICIAL.get(peer);
        if (pattern == null) {
            throw new IllegalStateException("peer '" + peer + "' has no official image (-Dinterop.peerImages="
                    + "official); set -Dinterop.image." + peer + "=<image> or build it (the default)");
        }
        return String.format(pattern, toolchain.version(peer));
    }

    @Override
    public java.nio.file.Path provision(PeerToolchain tc, String peer) {
        if (official()) {
            officialImage(peer);
            return null;
        }
        return tc.binary(peer);
    }

    @Override
    public String origin(String peer, java.nio.file.Path binary) {
        return official() ? "official image " + officialImage(peer)
                : binary + " in image tunnelwire-interop/" + peer + ":" + toolchain.version(peer);
    }

    private ImageFromDockerfile image(PeerLaunch launch) {
        return images.computeIfAbsent(launch.peer(), peer -> {
            String bin = launch.binary().getFileName().toString();
            ImageFromDockerfile image = new ImageFromDockerfile("tunnelwire-interop/" + peer + ":"
                    + toolchain.version(peer), false).withFileFromPath(bin, launch.binary());
            // a dynamically linked binary (Debian's v2ray) gets its loader and libraries, still FROM scratch
            List<String> libs = sharedLibraries(launch.binary());
            for (String lib : libs) {
                image.withFileFromPath("rootfs" + lib, java.nio.file.Path.of(lib));
            }
            return image.withFileFromString("Dockerfile", "FROM scratch\n"
                    + (libs.isEmpty() ? "" : "COPY rootfs/ /\n")
                    + "COPY " + bin + " /" + bin + "\n"
                    + "WORKDIR " + DIR + "\n"
                    + "ENTRYPOINT [\"/" + bin + "\"]\n");
        });
    }

    /** The absolute paths {@code ldd} lists for {@code binary}; empty for a static binary. */
    static List<String> sharedLibraries(java.nio.file.Path binary) {
        PeerToolchain.Result r = PeerToolchain.run(List.of("ldd", binary.toString()), 30);
        String out = r.stdout() + r.stderr();
        if (r.exit() != 0 || out.contains("not a dynamic executable") || out.contains("statically linked")) {
            return List.of();
        }
        java.util.Set<String> libs = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(/\\S+)").matcher(out);
        while (m.find()) {
            java.nio.file.Path p = java.nio.file.Path.of(m.group(1));
            if (java.nio.file.Files.isRegularFile(p)) {
                libs.add(m.group(1));
            }
        }
        return List.copyOf(libs);
    }

    @Override
    public Running start(PeerLaunch launch) {
        @SuppressWarnings("resource")
        GenericContainer<?> c = (official() ? new GenericContainer<>(officialImage(launch.peer()))
                : new GenericContainer<>(image(launch)))
                .withNetworkMode("host")
                .withCommand(launch.argsIn(DIR).toArray(String[]::new))
                .withWorkingDirectory(DIR)
                .waitingFor(new TcpPortsWait(launch))
                .withStartupTimeout(Duration.ofSeconds(90))
                .withLabel("dev.tunnelwire.interop.role", launch.role());
        for (String name : launch.files().keySet()) {
            c.withCopyToContainer(Transferable.of(launch.fileIn(name, DIR).getBytes(StandardCharsets.UTF_8), 0644),
                    DIR + "/" + name);
        }
        Running r = new Running() {
            @Override
            public boolean isRunning() {
                return c.isRunning();
            }

            @Override
            public String logs() {
                try {
                    return c.getLogs();
                } catch (RuntimeException e) {
                    return "(no logs: " + e + ")";
                }
            }

            @Override
            public void close() {
                c.stop();
            }
        };
        try {
            c.start();
        } catch (RuntimeException e) {
            String logs = r.logs();
            c.stop();
            throw new IllegalStateException(launch.role() + " container failed to start: " + e.getMessage()
                    + "\n" + PortWait.tail(logs), e);
        }
        synchronized (started) {
            started.add(r);
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

    /** Ready when every port of the role accepts a TCP connection on 127.0.0.1 (host networking: no mapped ports). */
    private static final class TcpPortsWait extends AbstractWaitStrategy {
        private final PeerLaunch launch;

        TcpPortsWait(PeerLaunch launch) {
            this.launch = launch;
        }

        @Override
        protected void waitUntilReady() {
            PortWait.await(launch.role(), launch.ports(), startupTimeout, waitStrategyTarget::isRunning,
                    () -> "(see the container log)");
        }
    }
}
