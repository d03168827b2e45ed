package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;
import dev.tunnelwire.internal.h2.H2Settings;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SPI entry of GOST's HTTP/2 tunnel, schemes {@code h2} and {@code h2c} (one transport: TLS comes from the dialer or
 * listener config; without TLS it is h2c with prior knowledge). Metadata keys as gost spells them: {@code path},
 * {@code host}; plus {@code userAgent}, {@code handshakeTimeout}, {@code idleTimeout}, {@code pingTimeout}.
 */
public final class H2TunnelTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return new LinkedHashSet<>(List.of(H2TunnelOptions.SCHEME, H2TunnelOptions.SCHEME_CLEARTEXT));
    }

    @Override
    public H2TunnelOptions defaultOptions() {
        return H2TunnelOptions.defaults();
    }

    @Override
    public H2TunnelOptions parse(Map<String, String> params) {
        Params p = new Params(H2TunnelOptions.SCHEME, params);
        String path = p.string("path");
        H2TunnelOptions o = H2TunnelOptions.builder()
                .path(path == null || path.isEmpty() ? null : path)
                .host(p.string("host"))
                .userAgent(p.string("userAgent"))
                .handshakeTimeout(p.duration("handshakeTimeout", null))
                .h2(H2Settings.builder().idleTimeout(p.duration("idleTimeout", null))
                        .pingTimeout(p.duration("pingTimeout", null)).build())
                .build();
        p.requireAllUsed();
        return o;
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new H2TunnelDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new H2TunnelListener(runtime, config, cast(options));
    }

    private static H2TunnelOptions cast(TransportOptions o) {
        if (o instanceof H2TunnelOptions h) {
            return h;
        }
        throw new IllegalArgumentException("expected H2TunnelOptions, got " + o.getClass().getName());
    }
}
