package dev.tunnelwire.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * The client side of a proxy protocol, used by a chain hop: it turns a destination into the protocol's request bytes
 * and handles the server's response on the hop's tunnel.
 *
 * <p>A chain calls {@link #handshake} before it opens the hop's tunnel, passes {@link Handshake#firstBytes()} as the
 * dialer's first payload (so the request, and the client's first data where the protocol allows it, can ride in the
 * transport handshake, e.g. WebSocket early data), and calls {@link Handshake#install} from the tunnel initializer.
 * Implementations are immutable and thread-safe.
 */
public interface Connector {

    /** The protocol name, e.g. {@code vless}. */
    String protocol();

    /**
     * Starts one connection to {@code destination}. Ownership of {@code payload} (may be {@code null}) passes to the
     * returned handshake.
     */
    Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc);

    /** One connection's client handshake. */
    interface Handshake {

        /**
         * The bytes to send first: the request, followed by the payload when the protocol lets data follow the request
         * without waiting for a response. Called once; ownership passes to the caller. May be {@code null}.
         */
        ByteBuf firstBytes();

        /**
         * Installs the response handling at the end of {@code tunnel}'s pipeline (on its event loop, before any tunnel
         * data is delivered) and completes {@code ready} once the tunnel carries plain bytes to the destination: at
         * once for protocols whose response is checked lazily (VLESS, relay), after the response for the others.
         * A bad response fails {@code ready} (when still pending) with a {@link ProxyException} and closes the
         * tunnel. Payload held back by {@link #firstBytes()} is written before {@code ready} completes.
         */
        void install(Channel tunnel, Promise<Void> ready);
    }
}
