package dev.tunnelwire.interop;

/**
 * Starts peer roles. Two implementations run the same binaries with the same configs: {@link DockerPeerRuntime}
 * (Testcontainers, {@code FROM scratch} images, host networking) and {@link ProcessPeerRuntime} (plain processes, for
 * machines where a Docker engine cannot run). Selected with {@code -Dinterop.runtime=docker|process}.
 */
public interface PeerRuntime extends AutoCloseable {

    /** {@code docker} or {@code process}. */
    String name();

    /** A one-line description for the report (engine version, ...). */
    String describe();

    /** Makes the runtime usable (e.g. starts the Docker engine); a failure is fatal for the whole run. */
    void prepare() throws Exception;

    /**
     * Makes the peer's binary available (builds it if missing) and returns it; {@code null} when this runtime brings
     * its own image of the peer instead.
     */
    default java.nio.file.Path provision(PeerToolchain toolchain, String peer) {
        return toolchain.binary(peer);
    }

    /** Where the peer comes from, for the report: the binary, or the image. */
    default String origin(String peer, java.nio.file.Path binary) {
        return String.valueOf(binary);
    }

    /** Starts a role and waits until all its ports accept TCP connections. */
    Running start(PeerLaunch launch) throws Exception;

    @Override
    void close();

    /** A started role. */
    interface Running extends AutoCloseable {

        boolean isRunning();

        /** Everything the peer wrote to stdout/stderr so far. */
        String logs();

        @Override
        void close();
    }
}
