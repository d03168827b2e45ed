package dev.tunnelwire.transport.tcp;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;

import java.util.Map;
import java.util.Set;

/** SPI entry of the raw {@code tcp} transport ({@code tls} is the same transport with TLS configured). */
public final class TcpTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return Set.of(TcpOptions.SCHEME);
    }

    @Override
    public TcpOptions defaultOptions() {
        return TcpOptions.defaults();
    }

    @Override
    public TcpOptions parse(Map<String, String> params) {
        Params p = new Params(TcpOptions.SCHEME, params);
        TcpOptions o = TcpOptions.builder().tlsHandshakeTimeout(p.duration("handshakeTimeout", null)).build();
        p.requireAllUsed();
        return o;
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new TcpDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new TcpListener(runtime, config, cast(options));
    }

    private static TcpOptions cast(TransportOptions o) {
        if (o instanceof TcpOptions t) {
            return t;
        }
        throw new IllegalArgumentException("expected TcpOptions, got " + o.getClass().getName());
    }
}
