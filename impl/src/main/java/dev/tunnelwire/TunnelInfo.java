package dev.tunnelwire;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AttributeKey;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * What the transport learned while establishing a tunnel.
 *
 * @param transport     the transport's scheme, e.g. {@code ws}
 * @param remoteAddress the client's address: from the PROXY protocol header or a trusted {@code X-Forwarded-For}
 *                      when the listener is configured for them, else the TCP peer
 * @param localAddress  the local end of the underlying connection
 * @param authority     the request's host/authority, or {@code null} when the transport has none
 * @param path          the request path (with query), or {@code null} when the transport has none
 * @param headers       the request headers, empty when the transport has none; never {@code null}
 */
public record TunnelInfo(String transport, SocketAddress remoteAddress, SocketAddress localAddress, String authority,
                         String path, HttpHeaders headers) {

    /** The channel attribute under which every tunnel channel carries its {@link TunnelInfo}. */
    public static final AttributeKey<TunnelInfo> KEY = AttributeKey.valueOf("dev.tunnelwire.TunnelInfo");

    public TunnelInfo {
        Objects.requireNonNull(transport, "transport");
        headers = headers == null ? EmptyHttpHeaders.INSTANCE : headers;
    }

    /** A tunnel without request metadata. */
    public static TunnelInfo of(String transport, SocketAddress remote, SocketAddress local) {
        return new TunnelInfo(transport, remote, local, null, null, null);
    }

    /** The info attached to {@code tunnel}, or {@code null}. */
    public static TunnelInfo get(Channel tunnel) {
        return tunnel.attr(KEY).get();
    }
}
