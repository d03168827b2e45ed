package dev.tunnelwire.transport.http2;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;
import dev.tunnelwire.internal.h2.H2Settings;

import java.util.Map;
import java.util.Set;

/**
 * SPI entry of the transport under gost's HTTP/2 proxy, scheme {@code http2} (TLS only). Pair it with the
 * {@code http2} handler and connector ({@code dev.tunnelwire.proxy.http2}). Metadata: {@code idleTimeout},
 * {@code pingTimeout}.
 */
public final class Http2ProxyTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return Set.of(Http2ProxyOptions.SCHEME);
    }

    @Override
    public Http2ProxyOptions defaultOptions() {
        return Http2ProxyOptions.defaults();
    }

    @Override
    public Http2ProxyOptions parse(Map<String, String> params) {
        Params p = new Params(Http2ProxyOptions.SCHEME, params);
        Http2ProxyOptions o = new Http2ProxyOptions(H2Settings.builder().idleTimeout(p.duration("idleTimeout", null))
                .pingTimeout(p.duration("pingTimeout", null)).build());
        p.requireAllUsed();
        return o;
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new Http2ProxyDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new Http2ProxyListener(runtime, config, cast(options));
    }

    private static Http2ProxyOptions cast(TransportOptions o) {
        if (o instanceof Http2ProxyOptions h) {
            return h;
        }
        throw new IllegalArgumentException("expected Http2ProxyOptions, got " + o.getClass().getName());
    }
}
