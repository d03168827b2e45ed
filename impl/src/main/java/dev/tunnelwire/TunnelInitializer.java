package dev.tunnelwire;

import io.netty.channel.Channel;

/**
 * Installs the application's handlers on a tunnel once its transport handshake is done.
 *
 * <p>Called exactly once per tunnel, on the tunnel's event loop, before any tunnel data is delivered: bytes that
 * arrived together with the handshake (early data, bytes pipelined after a request head, leftovers after a 101) are
 * fired into the pipeline only after this method returns. The tunnel carries plain {@link io.netty.buffer.ByteBuf}s
 * both ways; the application owns every buffer it reads and must release or forward it.
 *
 * <p>Throwing closes the tunnel.
 */
@FunctionalInterface
public interface TunnelInitializer {

    void initTunnel(Channel tunnel, TunnelInfo info) throws Exception;

    /** An initializer that installs nothing (useful when the caller adds handlers after the open future). */
    TunnelInitializer NONE = (tunnel, info) -> { };
}
