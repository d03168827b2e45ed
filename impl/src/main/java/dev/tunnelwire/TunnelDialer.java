package dev.tunnelwire;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * The client side of one configured transport.
 *
 * <p>{@link #open} connects to the configured server (or takes a connection from the dialer's pool, for multiplexed
 * transports), runs the transport handshake and hands the tunnel to the {@link TunnelInitializer}; the returned
 * future completes with the tunnel channel after the initializer ran. A tunnel is a {@link Channel} carrying plain
 * {@link ByteBuf}s: the TCP channel itself after pipeline surgery for HTTP/1-based transports, an HTTP/2 stream
 * channel with an adapter for HTTP/2-based ones.
 *
 * <p><b>First payload.</b> Several transports put the first bytes of the tunnel into the handshake (WebSocket early
 * data, V2Ray HTTP/1.1's request written together with its first payload, Xray's {@code ed}). The caller passes those
 * bytes, if it has any, as {@code firstPayload}; the dialer decides how much of it rides in the handshake and sends
 * the rest as ordinary tunnel data before anything the caller writes later. Ownership of {@code firstPayload} passes
 * to the dialer in every case, including failure.
 *
 * <p><b>Chains.</b> {@link #openOver} runs the same transport over an existing byte channel (for example the tunnel of
 * a previous hop) instead of a new TCP connection.
 *
 * <p>Thread-safe. {@link #close()} closes pooled connections; tunnels already open on them are closed too.
 */
public interface TunnelDialer extends AutoCloseable {

    /** Opens a tunnel over a new (or pooled) connection to the configured server. */
    Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer);

    /** Opens a tunnel without a first payload. */
    default Future<Channel> open(TunnelInitializer initializer) {
        return open(null, initializer);
    }

    /**
     * Opens a tunnel over {@code carrier}, a channel that already carries plain bytes to the server (TLS, if
     * configured, is added on top of it). The carrier's pipeline becomes the tunnel's lower layer: closing the tunnel
     * closes the carrier.
     */
    Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer);

    /** The scheme of the transport, e.g. {@code ws}. */
    String transport();

    @Override
    void close();
}
