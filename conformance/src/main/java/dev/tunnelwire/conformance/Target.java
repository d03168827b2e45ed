package dev.tunnelwire.conformance;

import java.net.InetSocketAddress;

/**
 * The implementation under test. The engine asks it to play the fixture's role against the engine's fake peer.
 *
 * <p>Built in: {@link ImplTarget} (tunnelwire in-process) and {@link ExternalTarget} (any implementation: a server by
 * host:port, a client by a command). The interop module adds the real peers by implementing this interface.
 */
public interface Target extends AutoCloseable {

    /** A server under test, listening; its application side is {@link #app()}. */
    interface Server extends AutoCloseable {
        InetSocketAddress address();

        AppEndpoint app();

        /** Where a proxy protocol's destination (the application) listens, or {@code null}. */
        default InetSocketAddress appAddress() {
            return null;
        }

        @Override
        void close();
    }

    /** A client under test, configured to dial the engine's fake server; its application side is {@link #app()}. */
    interface Client extends AutoCloseable {
        AppEndpoint app();

        @Override
        void close();
    }

    /** A short name for reports, e.g. {@code tunnelwire-impl} or {@code external 127.0.0.1:8080}. */
    String name();

    /** Why this target cannot run the fixture (transport not implemented...), or {@code null} if it can. */
    String unsupported(Fixture fixture);

    Server startServer(Fixture fixture, WireLog log) throws Exception;

    /**
     * Client role: the address the engine's fake server must listen on for {@code fixture}, or {@code null} (the
     * default) for any free loopback port. A client under test that is configured once for many cases (a peer
     * started with a fixed config) names its fixed server address here; the engine binds it with
     * {@code SO_REUSEADDR}, retrying briefly while the previous case's socket is still closing.
     */
    default InetSocketAddress fakeServerAddress(Fixture fixture) {
        return null;
    }

    Client startClient(Fixture fixture, InetSocketAddress fakeServer, WireLog log) throws Exception;

    @Override
    default void close() {
    }
}
