package dev.tunnelwire;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * Where and how a listener accepts, independent of the transport.
 *
 * @param bind                the address to bind (port 0 picks a free port)
 * @param tls                 TLS settings, or {@code null} for cleartext
 * @param acceptProxyProtocol require a PROXY protocol header (v1 or v2, detected) on every connection; its source
 *                            address becomes the tunnel's remote address. Connections without one are closed.
 */
public record ListenerConfig(InetSocketAddress bind, TlsServerOptions tls, boolean acceptProxyProtocol) {

    public ListenerConfig {
        Objects.requireNonNull(bind, "bind");
    }

    public static ListenerConfig of(InetSocketAddress bind) {
        return new ListenerConfig(bind, null, false);
    }

    public static ListenerConfig of(InetSocketAddress bind, TlsServerOptions tls) {
        return new ListenerConfig(bind, tls, false);
    }

    public ListenerConfig withTls(TlsServerOptions tls) {
        return new ListenerConfig(bind, tls, acceptProxyProtocol);
    }

    public ListenerConfig withAcceptProxyProtocol(boolean v) {
        return new ListenerConfig(bind, tls, v);
    }
}
