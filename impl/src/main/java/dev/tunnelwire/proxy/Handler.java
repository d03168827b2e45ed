package dev.tunnelwire.proxy;

import io.netty.channel.Channel;

/**
 * The server side of a proxy protocol: installed on every tunnel a service accepts, it reads the protocol request,
 * authenticates, decides the destination, connects through {@link HandlerContext#outbound()} and relays; on failure
 * it answers with the protocol's error code and closes. Implementations are immutable and thread-safe.
 */
public interface Handler {

    /** The protocol name, e.g. {@code socks5}. */
    String protocol();

    /**
     * Installs the protocol's server handshake on an accepted tunnel. Called on the tunnel's event loop from the
     * listener's initializer, before any tunnel data is delivered.
     */
    void init(Channel tunnel, HandlerContext context);
}
