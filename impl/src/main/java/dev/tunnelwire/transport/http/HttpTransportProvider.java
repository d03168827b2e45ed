package dev.tunnelwire.transport.http;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;
import dev.tunnelwire.internal.h2.H2Settings;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * SPI entry of the V2Ray HTTP transport, scheme {@value HttpOptions#SCHEME} (sing-box's {@code http}, v2fly's and
 * Xray's {@code h2}/{@code http}; those names are taken by gost's HTTP proxy and h2 tunnel).
 *
 * <p>Parameters: {@code host} (comma-separated list), {@code path}, {@code method}, {@code header.<Name>=value}
 * (one per header; commas separate several values), {@code idleTimeout}/{@code idle_timeout},
 * {@code pingTimeout}/{@code ping_timeout} (0 means the default), {@code h2c} (client: HTTP/2 with prior knowledge on
 * cleartext), {@code handshakeTimeout}, {@code trustXForwardedFor}, and the HTTP/2 tuning {@code streamWindow},
 * {@code connectionWindow}, {@code maxConcurrentStreams}, {@code maxHeaderListSize}, {@code maxFrameSize}.
 */
public final class HttpTransportProvider implements TransportProvider {

    private static final String HEADER_PREFIX = "header.";

    @Override
    public Set<String> schemes() {
        return Set.of(HttpOptions.SCHEME);
    }

    @Override
    public HttpOptions defaultOptions() {
        return HttpOptions.defaults();
    }

    @Override
    public HttpOptions parse(Map<String, String> params) {
        Params p = new Params(HttpOptions.SCHEME, params);
        HttpOptions.Builder b = HttpOptions.builder();
        String hosts = p.stringOr("host", null);
        if (hosts != null) {
            b.hosts(Arrays.stream(hosts.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList());
        }
        b.path(p.stringOr("path", null));
        b.method(p.stringOr("method", null));
        if (params != null) {
            for (String key : new TreeSet<>(params.keySet())) {
                if (key.startsWith(HEADER_PREFIX) && key.length() > HEADER_PREFIX.length()) {
                    String v = p.string(key);
                    b.header(key.substring(HEADER_PREFIX.length()),
                            Arrays.stream(v.split(",")).map(String::strip).toList());
                }
            }
        }
        H2Settings d = H2Settings.defaults();
        H2Settings.Builder h2 = H2Settings.builder()
                .streamWindow(p.integer("streamWindow", d.streamWindow()))
                .connectionWindow(p.integer("connectionWindow", d.connectionWindow()))
                .maxConcurrentStreams(p.integer("maxConcurrentStreams", d.maxConcurrentStreams()))
                .maxHeaderListSize(p.integer("maxHeaderListSize", d.maxHeaderListSize()))
                .maxFrameSize(p.integer("maxFrameSize", d.maxFrameSize()));
        String idle = p.string(new String[] {"idleTimeout", "idle_timeout"});
        if (idle != null) {
            h2.idleTimeout(duration("idleTimeout", idle));
        }
        String ping = p.string(new String[] {"pingTimeout", "ping_timeout"});
        if (ping != null) {
            Duration v = duration("pingTimeout", ping);
            // sing-box: 0 leaves Go's default (15 s)
            h2.pingTimeout(v.isZero() ? null : v);
        }
        b.h2(h2.build());
        b.h2cPriorKnowledge(p.bool("h2c", false));
        b.handshakeTimeout(p.duration("handshakeTimeout", null));
        b.trustXForwardedFor(p.bool("trustXForwardedFor", false));
        p.requireAllUsed();
        return b.build();
    }

    private static Duration duration(String name, String v) {
        try {
            return Params.parseDuration(v.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(HttpOptions.SCHEME + " option '" + name
                    + "' must be a duration such as 10s or 500ms, got '" + v + "'");
        }
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new HttpDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new HttpListener(runtime, config, cast(options));
    }

    private static HttpOptions cast(TransportOptions o) {
        if (o instanceof HttpOptions h) {
            return h;
        }
        throw new IllegalArgumentException("expected HttpOptions, got " + o.getClass().getName());
    }
}
