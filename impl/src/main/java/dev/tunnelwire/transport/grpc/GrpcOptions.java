package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.internal.h2.H2Settings;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Options of the {@code grpc} transport: a bidirectional-streaming gRPC call per tunnel, spoken directly on HTTP/2
 * ("gun"), in two flavours that differ only in path and defaults.
 *
 * <ul>
 *   <li>{@link Flavour#GUN}: Xray and sing-box. Path {@code /<PathEscape(serviceName)>/Tun} (or {@code /TunMulti}
 *       with {@link #multi}); an empty service name gives {@code //Tun}. A service name starting with {@code /} is
 *       Xray's custom path ({@code /a/b/name}; on a server {@code /a/b/tun|multi}) unless
 *       {@link #customPathSyntax} is off (sing-box, which escapes the leading {@code /} instead).</li>
 *   <li>{@link Flavour#GOST}: gost's {@code GostTunel/Tunnel} with its {@code path} rewrite ({@code /foo} →
 *       {@code /foo/Tunnel}, {@code /a/b/c} → {@code /a/b-c}).</li>
 * </ul>
 *
 * @param flavour                 the client's path rule and defaults (default {@link Flavour#GUN})
 * @param serviceName             gun service name (default {@code ""}, which gives {@code //Tun} as in sing-box)
 * @param gostPath                gost's {@code path} option (default {@code ""}: {@code /GostTunel/Tunnel})
 * @param multi                   client calls {@code TunMulti} (Xray only; MultiHunk messages) instead of {@code Tun}
 *                                (default false)
 * @param customPathSyntax        interpret a service name starting with {@code /} as Xray's custom path (default
 *                                true; false for sing-box semantics)
 * @param authority               client {@code :authority}; {@code null} applies the flavour's default rule: GUN (as
 *                                Xray): the TLS server name, else the server host when it is a name, else
 *                                {@code host:port}; GOST: the server host without port
 * @param userAgent               client {@code user-agent}; {@code null} gives the flavour's default
 *                                ({@value #DEFAULT_GUN_USER_AGENT} for GUN, as Xray's Chrome masquerade;
 *                                {@value #DEFAULT_GOST_USER_AGENT} for GOST); empty sends none
 * @param scheme                  client {@code :scheme}: {@code https} or {@code http}; {@code null} (default) picks
 *                                {@code https} with TLS and {@code http} without (Xray sends {@code http} even over
 *                                TLS; servers do not check it)
 * @param maxMessagePayload       largest tunnel payload per gun message; bigger writes are split (default
 *                                {@value #DEFAULT_MAX_MESSAGE_PAYLOAD}, as gost; at most 4 MiB minus the framing,
 *                                grpc-go's receive limit)
 * @param maxReceiveMessage       largest gun message accepted (default 4 MiB, grpc-go's default); bigger ones fail the
 *                                tunnel
 * @param serve                   which flavours' paths a listener serves (default: {@link #flavour} only); a listener
 *                                with both serves {@code Tun}, {@code TunMulti} and the GOST path on one port
 * @param permitKeepaliveTime     server keepalive policy: the shortest interval between client PINGs tolerated
 *                                (default {@value #DEFAULT_PERMIT_KEEPALIVE_SECONDS} s, so that gost clients with
 *                                {@code keepalive=true} are served); more than two faster PINGs get GOAWAY
 *                                {@code ENHANCE_YOUR_CALM "too_many_pings"}, as grpc-go does
 * @param permitKeepaliveWithoutCalls server keepalive policy: whether PINGs are tolerated on a connection without open
 *                                tunnels (default false, as grpc-go)
 * @param tlsHandshakeTimeout     server: a TLS handshake that takes longer closes the connection (default
 *                                {@value #DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS} s)
 * @param h2                      HTTP/2 windows, limits and the client's keepalive PING (off by default: Xray and gost
 *                                servers send GOAWAY to clients that ping more often than every 5 minutes)
 */
public record GrpcOptions(Flavour flavour, String serviceName, String gostPath, boolean multi,
                          boolean customPathSyntax, String authority, String userAgent, String scheme,
                          int maxMessagePayload, int maxReceiveMessage, Set<Flavour> serve,
                          Duration permitKeepaliveTime, boolean permitKeepaliveWithoutCalls,
                          Duration tlsHandshakeTimeout, H2Settings h2) implements TransportOptions {

    public static final String SCHEME = "grpc";
    public static final int DEFAULT_MAX_MESSAGE_PAYLOAD = 32 * 1024;
    public static final int DEFAULT_MAX_RECEIVE_MESSAGE = GrpcProtocol.GRPC_DEFAULT_MAX_MESSAGE;
    /** The largest payload whose message stays within grpc-go's 4 MiB limit (tag and 4-byte varint included). */
    public static final int MAX_MESSAGE_PAYLOAD = GrpcProtocol.GRPC_DEFAULT_MAX_MESSAGE - 5;
    public static final long DEFAULT_PERMIT_KEEPALIVE_SECONDS = 30;
    public static final long DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS = 15;
    /** Xray's default gRPC user agent: the Chrome masquerade string (Xray {@code common/utils/browser.go}). */
    public static final String DEFAULT_GUN_USER_AGENT =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 "
                    + "Safari/537.36";
    /** gost v3.2.6's user agent (grpc-go's). */
    public static final String DEFAULT_GOST_USER_AGENT = "grpc-go/1.67.1";

    /** The peer family whose path rule and defaults apply. */
    public enum Flavour {
        /** Xray and sing-box: {@code Tun}/{@code TunMulti} with Hunk/MultiHunk. */
        GUN,
        /** gost: {@code GostTunel/Tunnel} with Chunk. */
        GOST
    }

    public GrpcOptions {
        flavour = Objects.requireNonNullElse(flavour, Flavour.GUN);
        serviceName = Objects.requireNonNullElse(serviceName, "");
        gostPath = Objects.requireNonNullElse(gostPath, "");
        authority = authority == null || authority.isEmpty() ? null : authority;
        if (multi && flavour != Flavour.GUN) {
            throw new IllegalArgumentException("multi (TunMulti) exists only in the gun flavour (Xray)");
        }
        if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("scheme must be http or https: " + scheme);
        }
        if (maxMessagePayload < 1 || maxMessagePayload > MAX_MESSAGE_PAYLOAD) {
            throw new IllegalArgumentException("maxMessagePayload must be in [1, " + MAX_MESSAGE_PAYLOAD + "]: "
                    + maxMessagePayload);
        }
        if (maxReceiveMessage < 1024) {
            throw new IllegalArgumentException("maxReceiveMessage must be at least 1024: " + maxReceiveMessage);
        }
        serve = serve == null || serve.isEmpty() ? Collections.unmodifiableSet(EnumSet.of(flavour))
                : Collections.unmodifiableSet(EnumSet.copyOf(serve));
        permitKeepaliveTime = Objects.requireNonNullElse(permitKeepaliveTime,
                Duration.ofSeconds(DEFAULT_PERMIT_KEEPALIVE_SECONDS));
        if (permitKeepaliveTime.isNegative()) {
            throw new IllegalArgumentException("permitKeepaliveTime must not be negative");
        }
        tlsHandshakeTimeout = Objects.requireNonNullElse(tlsHandshakeTimeout,
                Duration.ofSeconds(DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECONDS));
        if (tlsHandshakeTimeout.isNegative() || tlsHandshakeTimeout.isZero()) {
            throw new IllegalArgumentException("tlsHandshakeTimeout must be positive");
        }
        h2 = Objects.requireNonNullElse(h2, H2Settings.defaults());
    }

    public static GrpcOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().flavour(flavour).serviceName(serviceName).gostPath(gostPath).multi(multi)
                .customPathSyntax(customPathSyntax).authority(authority).userAgent(userAgent).scheme(scheme)
                .maxMessagePayload(maxMessagePayload).maxReceiveMessage(maxReceiveMessage).serve(serve)
                .permitKeepaliveTime(permitKeepaliveTime).permitKeepaliveWithoutCalls(permitKeepaliveWithoutCalls)
                .tlsHandshakeTimeout(tlsHandshakeTimeout).h2(h2);
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    /** The {@code :path} the client calls. */
    public String clientPath() {
        return flavour == Flavour.GOST ? GrpcProtocol.gostPath(gostPath)
                : GrpcProtocol.gunClientPath(serviceName, multi, customPathSyntax);
    }

    /** The user agent the client sends, or {@code ""} for none. */
    public String effectiveUserAgent() {
        if (userAgent != null) {
            return userAgent;
        }
        return flavour == Flavour.GOST ? DEFAULT_GOST_USER_AGENT : DEFAULT_GUN_USER_AGENT;
    }

    /**
     * The paths a listener serves, each with the message kind it carries. When two routes share a path (an Xray
     * custom path without {@code |}), TunMulti wins, as in grpc-go's method map; a MultiHunk with one entry is
     * byte-identical to a Hunk, so Tun clients still work.
     */
    Map<String, GrpcProtocol.MessageKind> serverRoutes() {
        Map<String, GrpcProtocol.MessageKind> routes = new LinkedHashMap<>();
        if (serve.contains(Flavour.GOST)) {
            routes.put(GrpcProtocol.gostPath(gostPath), GrpcProtocol.MessageKind.HUNK);
        }
        if (serve.contains(Flavour.GUN)) {
            String[] p = GrpcProtocol.gunServerPaths(serviceName, customPathSyntax);
            routes.put(p[0], GrpcProtocol.MessageKind.HUNK);
            routes.put(p[1], GrpcProtocol.MessageKind.MULTI_HUNK);
        }
        return routes;
    }

    /** The message kind of the client's path. */
    GrpcProtocol.MessageKind clientKind() {
        return multi ? GrpcProtocol.MessageKind.MULTI_HUNK : GrpcProtocol.MessageKind.HUNK;
    }

    public static final class Builder {
        private Flavour flavour = Flavour.GUN;
        private String serviceName = "";
        private String gostPath = "";
        private boolean multi;
        private boolean customPathSyntax = true;
        private String authority;
        private String userAgent;
        private String scheme;
        private int maxMessagePayload = DEFAULT_MAX_MESSAGE_PAYLOAD;
        private int maxReceiveMessage = DEFAULT_MAX_RECEIVE_MESSAGE;
        private Set<Flavour> serve;
        private Duration permitKeepaliveTime;
        private boolean permitKeepaliveWithoutCalls;
        private Duration tlsHandshakeTimeout;
        private H2Settings h2;

        public Builder flavour(Flavour v) {
            flavour = v;
            return this;
        }

        public Builder serviceName(String v) {
            serviceName = v;
            return this;
        }

        public Builder gostPath(String v) {
            gostPath = v;
            return this;
        }

        public Builder multi(boolean v) {
            multi = v;
            return this;
        }

        public Builder customPathSyntax(boolean v) {
            customPathSyntax = v;
            return this;
        }

        public Builder authority(String v) {
            authority = v;
            return this;
        }

        public Builder userAgent(String v) {
            userAgent = v;
            return this;
        }

        public Builder scheme(String v) {
            scheme = v;
            return this;
        }

        public Builder maxMessagePayload(int v) {
            maxMessagePayload = v;
            return this;
        }

        public Builder maxReceiveMessage(int v) {
            maxReceiveMessage = v;
            return this;
        }

        public Builder serve(Set<Flavour> v) {
            serve = v;
            return this;
        }

        public Builder permitKeepaliveTime(Duration v) {
            permitKeepaliveTime = v;
            return this;
        }

        public Builder permitKeepaliveWithoutCalls(boolean v) {
            permitKeepaliveWithoutCalls = v;
            return this;
        }

        public Builder tlsHandshakeTimeout(Duration v) {
            tlsHandshakeTimeout = v;
            return this;
        }

        public Builder h2(H2Settings v) {
            h2 = v;
            return this;
        }

        public GrpcOptions build() {
            return new GrpcOptions(flavour, serviceName, gostPath, multi, customPathSyntax, authority, userAgent,
                    scheme, maxMessagePayload, maxReceiveMessage, serve, permitKeepaliveTime,
                    permitKeepaliveWithoutCalls, tlsHandshakeTimeout, h2);
        }
    }
}
