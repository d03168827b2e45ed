package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * SPI entry of the {@code httpupgrade} transport. Parameters: {@code path} (may carry Xray's {@code ?ed=N}),
 * {@code host}, {@code header.<Name>=value} (one per header, spelling kept), {@code userAgent}, {@code earlyData}
 * ({@code none|xray|v2fly}), {@code earlyDataHeader}, {@code maxEarlyData}, {@code reject} ({@code status|close}),
 * {@code maxHeadSize}, {@code handshakeTimeout}, {@code trustXForwardedFor}, {@code fallback} ({@code host:port}).
 */
public final class HttpUpgradeTransportProvider implements TransportProvider {

    private static final String HEADER_PREFIX = "header.";

    @Override
    public Set<String> schemes() {
        return Set.of(HttpUpgradeOptions.SCHEME);
    }

    @Override
    public HttpUpgradeOptions defaultOptions() {
        return HttpUpgradeOptions.defaults();
    }

    @Override
    public HttpUpgradeOptions parse(Map<String, String> params) {
        Params p = new Params(HttpUpgradeOptions.SCHEME, params);
        HttpUpgradeOptions.Builder b = HttpUpgradeOptions.builder()
                .path(p.string("path"))
                .host(p.string("host"))
                .userAgent(p.string("userAgent"))
                .earlyDataHeader(p.string("earlyDataHeader"))
                .maxEarlyData(p.integer("maxEarlyData", 0))
                .maxRequestHeadBytes(p.integer("maxHeadSize", 0))
                .handshakeTimeout(p.duration("handshakeTimeout", null))
                .trustXForwardedFor(p.bool("trustXForwardedFor", false));
        if (params != null) {
            for (String key : params.keySet()) {
                if (key.startsWith(HEADER_PREFIX) && key.length() > HEADER_PREFIX.length()) {
                    b.header(key.substring(HEADER_PREFIX.length()), p.string(key));
                }
            }
        }
        String ed = p.string("earlyData");
        if (ed != null) {
            b.earlyData(switch (ed.toLowerCase(Locale.ROOT)) {
                case "none" -> HttpUpgradeOptions.EarlyData.NONE;
                case "xray", "ed" -> HttpUpgradeOptions.EarlyData.XRAY_ED;
                case "v2fly", "header" -> HttpUpgradeOptions.EarlyData.V2FLY_HEADER;
                default -> throw new IllegalArgumentException(
                        "httpupgrade option 'earlyData' must be none, xray or v2fly, got '" + ed + "'");
            });
        }
        String reject = p.string("reject");
        if (reject != null) {
            b.rejectMode(switch (reject.toLowerCase(Locale.ROOT)) {
                case "status" -> HttpUpgradeOptions.RejectMode.STATUS;
                case "close" -> HttpUpgradeOptions.RejectMode.CLOSE;
                default -> throw new IllegalArgumentException(
                        "httpupgrade option 'reject' must be status or close, got '" + reject + "'");
            });
        }
        String fallback = p.string("fallback");
        if (fallback != null) {
            b.fallback(hostPort(fallback));
        }
        p.requireAllUsed();
        return b.build();
    }

    private static InetSocketAddress hostPort(String v) {
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException("httpupgrade option 'fallback' must be host:port, got '" + v + "'");
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return InetSocketAddress.createUnresolved(host, Integer.parseInt(v.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("httpupgrade option 'fallback' must be host:port, got '" + v + "'");
        }
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new HttpUpgradeDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new HttpUpgradeListener(runtime, config, cast(options));
    }

    private static HttpUpgradeOptions cast(TransportOptions o) {
        if (o instanceof HttpUpgradeOptions h) {
            return h;
        }
        throw new IllegalArgumentException("expected HttpUpgradeOptions, got " + o.getClass().getName());
    }
}
