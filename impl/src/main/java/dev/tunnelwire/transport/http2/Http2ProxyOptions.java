package dev.tunnelwire.transport.http2;

import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.internal.h2.H2Settings;

import java.util.Objects;

/**
 * Options of the transport under gost's HTTP/2 proxy ({@code http2}, peer-gost.md section 3): HTTP/2 over TLS only
 * (ALPN {@code h2}), one pooled connection per dialer, one stream per proxied connection. Unlike the
 * {@code h2} tunnel, the stream's request is the proxy request itself: the dialer opens the stream and leaves the
 * request HEADERS to the {@code http2} connector ({@code :method CONNECT}, {@code :authority} = the target), and the
 * listener hands each stream to the {@code http2} handler before anything is answered
 * ({@link Http2ProxyStreams#REQUEST} carries the request headers).
 *
 * @param h2 HTTP/2 windows, limits and optional PING health check
 */
public record Http2ProxyOptions(H2Settings h2) implements TransportOptions {

    public static final String SCHEME = "http2";

    public Http2ProxyOptions {
        h2 = Objects.requireNonNullElse(h2, H2Settings.defaults());
    }

    public static Http2ProxyOptions defaults() {
        return new Http2ProxyOptions(null);
    }

    @Override
    public String transport() {
        return SCHEME;
    }
}
