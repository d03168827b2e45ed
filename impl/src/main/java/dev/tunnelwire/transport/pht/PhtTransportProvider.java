package dev.tunnelwire.transport.pht;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * SPI entry of GOST's PHT: schemes {@code pht} and {@code phts} (the same transport; TLS comes from the dialer or
 * listener config). Metadata keys as gost spells them: {@code authorizePath}, {@code pushPath}, {@code pullPath},
 * {@code host}, plus {@code maxChunk}, {@code pullIdle}, {@code sessionIdleTimeout}, {@code maxSessions},
 * {@code handshakeTimeout}, {@code userAgent}.
 */
public final class PhtTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return new LinkedHashSet<>(List.of(PhtOptions.SCHEME, "phts"));
    }

    @Override
    public PhtOptions defaultOptions() {
        return PhtOptions.defaults();
    }

    @Override
    public PhtOptions parse(Map<String, String> params) {
        Params p = new Params(PhtOptions.SCHEME, params);
        PhtOptions o = PhtOptions.builder()
                .authorizePath(p.string("authorizePath"))
                .pushPath(p.string("pushPath"))
                .pullPath(p.string("pullPath"))
                .host(p.string("host"))
                .maxChunk(p.integer("maxChunk", PhtOptions.DEFAULT_MAX_CHUNK))
                .pullIdle(p.duration("pullIdle", null))
                .sessionIdleTimeout(p.duration("sessionIdleTimeout", null))
                .maxSessions(p.integer("maxSessions", PhtOptions.DEFAULT_MAX_SESSIONS))
                .handshakeTimeout(p.duration("handshakeTimeout", null))
                .userAgent(p.string("userAgent"))
                .build();
        p.requireAllUsed();
        return o;
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new PhtDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new PhtListener(runtime, config, cast(options));
    }

    private static PhtOptions cast(TransportOptions o) {
        if (o instanceof PhtOptions p) {
            return p;
        }
        throw new IllegalArgumentException("expected PhtOptions, got " + o.getClass().getName());
    }
}
