package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;
import dev.tunnelwire.internal.h2.H2Settings;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * SPI entry of the {@code grpc} transport (gun for Xray/sing-box, GostTunel for gost). TLS is the dialer/listener
 * config's business (gost's {@code grpcInsecure=true} means "no TLS config").
 *
 * <p>Parameters (aliases in brackets): {@code flavour} ({@code gun}|{@code gost}), {@code serviceName}
 * [{@code grpc.serviceName}], {@code path} [{@code grpc.path}] (gost), {@code multiMode} [{@code multi}],
 * {@code customPath} (bool), {@code authority} [{@code grpc.authority}, {@code host}, {@code grpc.host}],
 * {@code userAgent} [{@code user_agent}], {@code scheme}, {@code maxMessagePayload}, {@code maxReceiveMessage},
 * {@code serve} (comma list of flavours), {@code permitKeepaliveTime} [{@code keepalive.minTime}],
 * {@code permitWithoutStream} [{@code keepalive.permitWithoutStream}], {@code handshakeTimeout}, and HTTP/2:
 * {@code idleTimeout} [{@code idle_timeout}, {@code keepalive.time}] (client PING interval, 0 = off),
 * {@code pingTimeout} [{@code ping_timeout}, {@code health_check_timeout}, {@code keepalive.timeout}],
 * {@code streamWindow} [{@code initial_windows_size}], {@code connectionWindow}, {@code maxConcurrentStreams}.
 */
public final class GrpcTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return Set.of(GrpcOptions.SCHEME);
    }

    @Override
    public GrpcOptions defaultOptions() {
        return GrpcOptions.defaults();
    }

    @Override
    public GrpcOptions parse(Map<String, String> params) {
        Params p = new Params(GrpcOptions.SCHEME, params);
        GrpcOptions.Builder b = GrpcOptions.builder();
        String flavour = p.string(new String[] {"flavour", "flavor"});
        if (flavour != null) {
            b.flavour(flavour(flavour));
        }
        b.serviceName(p.string("serviceName", "grpc.serviceName", "service_name"));
        b.gostPath(p.string(new String[] {"path", "grpc.path"}));
        boolean multiMode = p.bool("multiMode", false);
        b.multi(p.bool("multi", false) || multiMode);
        b.customPathSyntax(p.bool("customPath", true));
        b.authority(p.string("authority", "grpc.authority", "host", "grpc.host"));
        b.userAgent(p.string(new String[] {"userAgent", "user_agent"}));
        b.scheme(p.string("scheme"));
        b.maxMessagePayload(p.integer("maxMessagePayload", GrpcOptions.DEFAULT_MAX_MESSAGE_PAYLOAD));
        b.maxReceiveMessage(p.integer("maxReceiveMessage", GrpcOptions.DEFAULT_MAX_RECEIVE_MESSAGE));
        String serve = p.string("serve");
        if (serve != null) {
            EnumSet<GrpcOptions.Flavour> set = EnumSet.noneOf(GrpcOptions.Flavour.class);
            for (String s : serve.split(",")) {
                if (!s.isBlank()) {
                    set.add(flavour(s.trim()));
                }
            }
            b.serve(set);
        }
        b.permitKeepaliveTime(p.duration("permitKeepaliveTime", p.duration("keepalive.minTime", null)));
        boolean permit = p.bool("permitWithoutStream", false);
        b.permitKeepaliveWithoutCalls(p.bool("keepalive.permitWithoutStream", false) || permit);
        b.tlsHandshakeTimeout(p.duration("handshakeTimeout", null));
        H2Settings.Builder h2 = H2Settings.builder();
        h2.idleTimeout(first(p.duration("idleTimeout", null), p.duration("idle_timeout", null),
                p.duration("keepalive.time", null)));
        h2.pingTimeout(first(p.duration("pingTimeout", null), p.duration("ping_timeout", null),
                p.duration("health_check_timeout", null), p.duration("keepalive.timeout", null)));
        int window = p.integer("streamWindow", p.integer("initial_windows_size", 0));
        if (window > 0) {
            h2.streamWindow(window);
        }
        h2.connectionWindow(p.integer("connectionWindow", H2Settings.DEFAULT_CONNECTION_WINDOW));
        h2.maxConcurrentStreams(p.integer("maxConcurrentStreams", H2Settings.DEFAULT_MAX_CONCURRENT_STREAMS));
        b.h2(h2.build());
        GrpcOptions o = b.build();
        p.requireAllUsed();
        return o;
    }

    @SafeVarargs
    private static <T> T first(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static GrpcOptions.Flavour flavour(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "gun", "xray", "singbox", "sing-box" -> GrpcOptions.Flavour.GUN;
            case "gost" -> GrpcOptions.Flavour.GOST;
            default -> throw new IllegalArgumentException("grpc option 'flavour' must be gun or gost, got '" + s
                    + "'");
        };
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new GrpcDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new GrpcListener(runtime, config, cast(options));
    }

    private static GrpcOptions cast(TransportOptions o) {
        if (o instanceof GrpcOptions g) {
            return g;
        }
        throw new IllegalArgumentException("expected GrpcOptions, got " + o.getClass().getName());
    }
}
