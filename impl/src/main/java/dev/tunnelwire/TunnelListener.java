package dev.tunnelwire;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;

/**
 * The server side of one configured transport.
 *
 * <p>{@link #bind} accepts connections on the configured address; for each one it decodes the PROXY protocol header
 * and terminates TLS when configured, validates the transport's request (host, path, method, headers, early data),
 * answers rejected requests the way the peers do (status code or close, per transport) and hands every accepted tunnel
 * to the {@link TunnelInitializer} with its {@link TunnelInfo}.
 */
public interface TunnelListener extends AutoCloseable {

    /** Binds the configured address and starts accepting. The future completes with the bound address. */
    Future<InetSocketAddress> bind(TunnelInitializer initializer);

    /**
     * Serves one connection that was accepted elsewhere (a test's {@code EmbeddedChannel}, a socket handed over by
     * another server): installs PROXY protocol and TLS as configured, then the transport's server handshake. Must be
     * called on the connection's event loop or before it is registered.
     */
    void serve(Channel connection, TunnelInitializer initializer);

    /** The bound address, or {@code null} before {@link #bind} completed. */
    InetSocketAddress localAddress();

    /** The scheme of the transport, e.g. {@code ws}. */
    String transport();

    /** Stops accepting and closes the listening socket; open tunnels stay open. */
    @Override
    void close();
}
