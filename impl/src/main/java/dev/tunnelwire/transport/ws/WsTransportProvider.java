package dev.tunnelwire.transport.ws;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Params;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * SPI entry of the WebSocket transport: schemes {@code ws} and {@code wss} (the same transport; TLS comes from the
 * dialer/listener config).
 *
 * <p>Parameters (gost metadata names, aliases in brackets): {@code path} [{@code ws.path}], {@code host}
 * [{@code ws.host}], {@code header.<Name>} [{@code ws.header.<Name>}] (one per header), {@code userAgent},
 * {@code earlyData} ({@code none|path|header|xray}), {@code maxEarlyData} [{@code ed}], {@code earlyDataHeader},
 * {@code textFrames} ({@code data|discard}), {@code maxFramePayload} (default
 * {@value WsOptions#DEFAULT_MAX_FRAME_PAYLOAD}; {@code 0} for no limit), {@code fragmentSize},
 * {@code handshakeTimeout}, {@code trustXForwardedFor}. A path with {@code ?ed=N} selects Xray's dialect.
 * {@code maxEarlyData} without {@code earlyData} means path mode, or header mode when {@code earlyDataHeader} is
 * given (sing-box's rule).
 */
public final class WsTransportProvider implements TransportProvider {

    @Override
    public Set<String> schemes() {
        return Set.of(WsOptions.SCHEME, WsOptions.TLS_SCHEME);
    }

    @Override
    public WsOptions defaultOptions() {
        return WsOptions.defaults();
    }

    @Override
    public WsOptions parse(Map<String, String> params) {
        Map<String, String> rest = new HashMap<>();
        Map<String, String> headers = new LinkedHashMap<>();
        if (params != null) {
            params.forEach((k, v) -> {
                if (k.startsWith("header.") || k.startsWith("ws.header.")) {
                    headers.put(k.substring(k.indexOf("header.") + 7), v);
                } else {
                    rest.put(k, v);
                }
            });
        }
        Params p = new Params(WsOptions.SCHEME, rest);
        WsOptions.Builder b = WsOptions.builder()
                .path(alias(p, "path", "ws.path"))
                .host(alias(p, "host", "ws.host"))
                .headers(headers)
                .userAgent(p.string("userAgent"))
                .earlyDataHeader(p.string("earlyDataHeader"))
                .maxFramePayload(p.integer("maxFramePayload", WsOptions.DEFAULT_MAX_FRAME_PAYLOAD))
                .fragmentSize(p.integer("fragmentSize", 0))
                .handshakeTimeout(p.duration("handshakeTimeout", null))
                .trustXForwardedFor(p.bool("trustXForwardedFor", false));
        String ed = alias(p, "maxEarlyData", "ed");
        int maxEarlyData;
        try {
            maxEarlyData = ed == null ? 0 : Integer.parseInt(ed.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("ws option 'maxEarlyData' must be an integer, got '" + ed + "'");
        }
        String mode = p.string("earlyData");
        WsOptions.EarlyData m;
        if (mode != null) {
            m = enumValue(WsOptions.EarlyData.class, "earlyData", mode);
        } else if (maxEarlyData > 0) {
            m = p.string("earlyDataHeader") != null ? WsOptions.EarlyData.HEADER : WsOptions.EarlyData.PATH;
        } else {
            m = WsOptions.EarlyData.NONE;
        }
        b.earlyData(m, maxEarlyData);
        String text = p.string("textFrames");
        if (text != null) {
            b.textFrames(enumValue(WsOptions.TextFrames.class, "textFrames", text));
        }
        p.requireAllUsed();
        return b.build();
    }

    /** The first present key among the aliases. */
    private static String alias(Params p, String... names) {
        return p.string(names);
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String name, String value) {
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ws option '" + name + "' must be one of "
                    + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT) + ", got '"
                    + value + "'");
        }
    }

    @Override
    public TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options) {
        return new WsDialer(runtime, config, cast(options));
    }

    @Override
    public TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options) {
        return new WsListener(runtime, config, cast(options));
    }

    private static WsOptions cast(TransportOptions o) {
        if (o instanceof WsOptions w) {
            return w;
        }
        throw new IllegalArgumentException("expected WsOptions, got " + o.getClass().getName());
    }
}
