package dev.tunnelwire.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * How a handler reaches a destination: directly over TCP, or through a chain of proxies
 * ({@link dev.tunnelwire.service.Chain}).
 *
 * <p>The returned channel carries plain {@link ByteBuf}s to and from the destination. Its pipeline ends with a
 * handler named {@value #HOLD} that holds inbound data (and the end of input) until the caller has installed its own
 * handlers and removes it, so no byte that arrived with a protocol response is lost.
 * {@code dev.tunnelwire.internal.ServerSession.join} does both.
 */
public interface Outbound {

    /** The name of the holding handler at the end of every returned channel's pipeline. */
    String HOLD = "tw-hold";

    /**
     * Opens a byte channel to {@code destination}. {@code firstPayload} (may be {@code null}) is sent before anything
     * the caller writes later, in the first packet where the transport and protocols allow it (WebSocket early data,
     * VLESS and relay request headers); ownership passes in every case.
     */
    Future<Channel> connect(Destination destination, ByteBuf firstPayload);

    /**
     * Whether the first payload can travel with the connection request (a proxy request header, transport early
     * data), so that handlers should wait briefly for the client's first bytes before connecting. {@code false} for
     * direct TCP, where waiting would only add latency.
     */
    default boolean benefitsFromFirstPayload() {
        return true;
    }
}
