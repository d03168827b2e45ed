package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.cli.ConfigTree.Arr;
import dev.tunnelwire.cli.ConfigTree.Obj;
import dev.tunnelwire.cli.ConfigTree.Value;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.ws.WsOptions;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The V2Ray-family transport objects of the peers, read with the peers' field names and semantics and turned into our
 * transport and TLS options:
 * <ul>
 *   <li>sing-box v1.13.2 {@code transport} ({@code option/v2ray_transport.go}: {@code type} {@code http}, {@code ws},
 *       {@code httpupgrade}, {@code grpc}) with its sibling {@code tls} ({@code option/tls.go}: inbound fields on a
 *       listener, outbound fields on a dialer);</li>
 *   <li>Xray-core v26.7.28 {@code streamSettings} ({@code infra/conf/transport_internet.go}: {@code network} raw/tcp,
 *       ws, httpupgrade, grpc; {@code security} none/tls; {@code wsSettings}, {@code httpupgradeSettings},
 *       {@code grpcSettings}, {@code tlsSettings}).</li>
 * </ul>
 * A field of the peer that has no equivalent here (REALITY, uTLS fingerprints, ECH, {@code sockopt}, XHTTP, ...) is an
 * error naming it, unless it holds the peer's "off" value; so is a field that the peer accepts but ignores on that
 * side (e.g. {@code headers} on a server). Nothing is silently dropped.
 */
final class PeerTransports {

    static final String SING_BOX = "sing-box";
    static final String XRAY = "xray";

    private PeerTransports() {
    }

    // ------------------------------------------------------------------------------------------------ sing-box

    /** A sing-box inbound's {@code transport} and {@code tls} (either may be {@code null}, not both). */
    static Specs.Peer singBoxListener(Obj transport, Obj tls) {
        TlsServerOptions serverTls = tls == null ? null : singBoxInboundTls(tls);
        TransportOptions options = transport == null ? TcpOptions.defaults() : singBoxTransport(transport, true,
                null, 0, null);
        return new Specs.Peer(SING_BOX, options.transport(), options, serverTls, null, false);
    }

    /** A sing-box outbound's {@code transport} and {@code tls}; {@code host}/{@code port} is the server address. */
    static Specs.Peer singBoxDialer(Obj transport, Obj tls, String host, int port) {
        TlsClientOptions clientTls = tls == null ? null : singBoxOutboundTls(tls);
        TransportOptions options = transport == null ? TcpOptions.defaults() : singBoxTransport(transport, false,
                host, port, clientTls);
        return new Specs.Peer(SING_BOX, options.transport(), options, null, clientTls, false);
    }

    private static TransportOptions singBoxTransport(Obj t, boolean listener, String host, int port,
                                                     TlsClientOptions tls) {
        Value typeValue = t.get("type");
        String type = t.string("type");
        if (type == null) {
            throw t.error("missing field 'type' (http, ws, httpupgrade or grpc)");
        }
        TransportOptions o = switch (type) {
            case "ws" -> singBoxWs(t, listener);
            case "httpupgrade" -> singBoxHttpUpgrade(t, listener, host, port, tls);
            case "grpc" -> singBoxGrpc(t, listener, host, port, tls);
            case "http" -> singBoxHttp(t);
            case "quic" -> throw typeValue.error("not supported by tunnelwire: the QUIC transport");
            default -> throw typeValue.error("unknown transport type '" + type + "' (sing-box knows http, ws, quic,"
                    + " grpc, httpupgrade)");
        };
        t.end();
        return o;
    }

    private static WsOptions singBoxWs(Obj t, boolean listener) {
        WsOptions.Builder b = WsOptions.builder().textFrames(WsOptions.TextFrames.DISCARD);
        b.path(singBoxPath(t));
        Map<String, String> headers = singleHeaders(t, "headers", true);
        long max = orZero(t.integer("max_early_data", 0, 0xFFFF_FFFFL));
        String header = t.string("early_data_header_name");
        boolean hasHeader = header != null && !header.isEmpty();
        if (listener) {
            noServerHeaders(t, headers, "sing-box's ws server ignores it");
            // the server reads early data from the named header whatever max_early_data is; it never enforces
            // the size, so any positive value will do for ours
            if (hasHeader) {
                b.earlyData(WsOptions.EarlyData.HEADER, (int) Math.max(1, Math.min(max, Integer.MAX_VALUE)))
                        .earlyDataHeader(header);
            } else if (max > 0) {
                b.earlyData(WsOptions.EarlyData.PATH, (int) Math.min(max, Integer.MAX_VALUE));
            }
        } else {
            b.headers(headers);
            if (max > 0) {
                b.earlyData(hasHeader ? WsOptions.EarlyData.HEADER : WsOptions.EarlyData.PATH,
                        (int) Math.min(max, Integer.MAX_VALUE));
            }
            if (hasHeader) {
                b.earlyDataHeader(header);
            }
        }
        return build(t, b::build);
    }

    private static HttpUpgradeOptions singBoxHttpUpgrade(Obj t, boolean listener, String host, int port,
                                                         TlsClientOptions tls) {
        HttpUpgradeOptions.Builder b = HttpUpgradeOptions.builder().path(singBoxPath(t));
        String h = t.string("host");
        Map<String, String> headers = singleHeaders(t, "headers", false);
        if (listener) {
            b.host(h);
            noServerHeaders(t, headers, "sing-box's httpupgrade server ignores it");
        } else {
            // sing-box: the option, else the TLS server name, else server:port (with the port, unlike Xray)
            String name = tls != null && tls.serverName() != null ? tls.serverName() : hostPort(host, port);
            b.host(h == null || h.isEmpty() ? name : h);
            b.headers(headers);
        }
        return build(t, b::build);
    }

    private static GrpcOptions singBoxGrpc(Obj t, boolean listener, String host, int port, TlsClientOptions tls) {
        GrpcOptions.Builder b = GrpcOptions.builder().flavour(GrpcOptions.Flavour.GUN).customPathSyntax(false);
        String name = t.string("service_name");
        b.serviceName(name == null ? "" : name);
        H2Settings.Builder h2 = H2Settings.builder();
        Duration idle = goDuration(t, "idle_timeout");
        if (idle != null) {
            h2.idleTimeout(idle);
        }
        Duration ping = goDuration(t, "ping_timeout");
        if (ping != null && !ping.isZero()) {
            h2.pingTimeout(ping);
        }
        boolean permit = t.bool("permit_without_stream", false);
        if (listener) {
            b.permitKeepaliveWithoutCalls(permit);
        } else {
            // sing-box's lite client sends :authority with the port: the TLS server name or the server address
            String authorityHost = tls != null && tls.serverName() != null ? tls.serverName() : host;
            b.authority(hostPort(authorityHost, port));
        }
        b.h2(build(t, h2::build));
        return build(t, b::build);
    }

    private static HttpOptions singBoxHttp(Obj t) {
        HttpOptions.Builder b = HttpOptions.builder();
        List<String> hosts = t.listable("host");
        if (hosts != null) {
            b.hosts(hosts);
        }
        b.path(singBoxPath(t));
        b.method(t.string("method"));
        Obj headers = t.obj("headers");
        if (headers != null) {
            for (String name : headers.keys()) {
                b.header(name, headers.listable(name));
            }
            headers.end();
        }
        Duration idle = goDuration(t, "idle_timeout");
        if (idle != null) {
            b.idleTimeout(idle);
        }
        Duration ping = goDuration(t, "ping_timeout");
        if (ping != null && !ping.isZero()) { // sing-box: 0 leaves Go's default
            b.pingTimeout(ping);
        }
        return build(t, b::build);
    }

    /** sing-box escapes {@code ?} in paths (it never becomes a query), so a query here is almost surely a mistake. */
    private static String singBoxPath(Obj t) {
        String path = t.string("path");
        if (path != null && path.indexOf('?') >= 0) {
            throw t.get("path").error("sing-box sends '?' in a path escaped as %3F (there is no ?ed= in sing-box;"
                    + " use max_early_data), so a query here cannot work");
        }
        return path;
    }

    /** sing-box inbound {@code tls} ({@code InboundTLSOptions}). */
    private static TlsServerOptions singBoxInboundTls(Obj t) {
        if (!t.bool("enabled", false)) {
            t.accept("enabled");
            if (!t.keys().isEmpty() && !(t.keys().size() == 1 && t.keys().contains("enabled"))) {
                throw t.error("TLS fields are given but 'enabled' is not true");
            }
            return null;
        }
        t.string("server_name"); // sing-box sets it on the server's tls.Config, where Go does not use it
        List<String> alpn = t.listable("alpn");
        checkVersions(t, "min_version", "max_version");
        List<String> certLines = t.listable("certificate");
        String certPath = t.string("certificate_path");
        List<String> keyLines = t.listable("key");
        String keyPath = t.string("key_path");
        t.unsupported("insecure", "it has no meaning on a listener");
        t.unsupported("cipher_suites", "cipher suites are the JDK's defaults");
        t.unsupported("curve_preferences", "curves are the JDK's defaults");
        t.unsupported("client_authentication", "client certificates");
        t.unsupported("client_certificate", "client certificates");
        t.unsupported("client_certificate_path", "client certificates");
        t.unsupported("client_certificate_public_key_sha256", "client certificates");
        t.unsupported("kernel_tx", "kTLS");
        t.unsupported("kernel_rx", "kTLS");
        t.unsupported("acme", "ACME");
        t.unsupported("ech", "ECH");
        t.unsupported("reality", "REALITY");
        TlsServerOptions o = serverCertificate(t, certLines == null ? null : String.join("\n", certLines), certPath,
                keyLines == null ? null : String.join("\n", keyLines), keyPath, "certificate", "key",
                "certificate_path", "key_path");
        if (alpn != null) {
            o = o.toBuilder().alpn(alpn).build();
        }
        t.end();
        return o;
    }

    /** sing-box outbound {@code tls} ({@code OutboundTLSOptions}). */
    private static TlsClientOptions singBoxOutboundTls(Obj t) {
        if (!t.bool("enabled", false)) {
            if (!t.keys().isEmpty() && !(t.keys().size() == 1 && t.keys().contains("enabled"))) {
                throw t.error("TLS fields are given but 'enabled' is not true");
            }
            return null;
        }
        TlsClientOptions.Builder b = TlsClientOptions.builder();
        t.unsupported("disable_sni", "SNI is sent for names and never for IP addresses");
        String serverName = t.string("server_name");
        b.serverName(serverName == null || serverName.isEmpty() ? null : serverName);
        b.insecure(t.bool("insecure", false));
        List<String> alpn = t.listable("alpn");
        if (alpn != null) {
            b.alpn(alpn);
        }
        checkVersions(t, "min_version", "max_version");
        List<String> cert = t.listable("certificate");
        if (cert != null) {
            b.trusted(certificates(t.get("certificate"), String.join("\n", cert)));
        }
        String certPath = t.string("certificate_path");
        if (certPath != null && !certPath.isEmpty()) {
            b.caFile(existing(t.get("certificate_path"), certPath));
        }
        String clientCert = t.string("client_certificate_path");
        String clientKey = t.string("client_key_path");
        if (clientCert != null || clientKey != null) {
            if (clientCert == null || clientKey == null) {
                throw t.error("client_certificate_path and client_key_path must be given together");
            }
            b.clientCertificate(existing(t.get("client_certificate_path"), clientCert),
                    existing(t.get("client_key_path"), clientKey));
        }
        t.unsupported("certificate_public_key_sha256", "public key pinning (use certificate or certificate_path)");
        t.unsupported("client_certificate", "inline client certificates (use client_certificate_path)");
        t.unsupported("client_key", "inline client keys (use client_key_path)");
        t.unsupported("fragment", "TLS fragmentation");
        t.unsupported("fragment_fallback_delay", "TLS fragmentation");
        t.unsupported("record_fragment", "TLS record fragmentation");
        t.unsupported("kernel_tx", "kTLS");
        t.unsupported("kernel_rx", "kTLS");
        t.unsupported("ech", "ECH");
        t.unsupported("utls", "uTLS fingerprints (the JDK's ClientHello is sent)");
        t.unsupported("reality", "REALITY");
        t.unsupported("cipher_suites", "cipher suites are the JDK's defaults");
        t.unsupported("curve_preferences", "curves are the JDK's defaults");
        TlsClientOptions o = build(t, b::build);
        t.end();
        return o;
    }

    // ------------------------------------------------------------------------------------------------ Xray

    /** An Xray inbound's {@code streamSettings}. */
    static Specs.Peer xrayListener(Obj s) {
        return xray(s, true, null);
    }

    /** An Xray outbound's {@code streamSettings}. */
    static Specs.Peer xrayDialer(Obj s, String host) {
        return xray(s, false, host);
    }

    private static Specs.Peer xray(Obj s, boolean listener, String host) {
        Value networkValue = s.get("network");
        String network = s.string("network");
        Value methodValue = s.get("method");
        String method = s.string("method");
        if (method != null) { // Xray: "method" replaces "network"
            network = method;
            networkValue = methodValue;
        }
        String net = network == null ? "raw" : network.toLowerCase(Locale.ROOT);
        String settingsKey;
        String scheme;
        switch (net) {
            case "raw", "tcp" -> {
                settingsKey = null;
                scheme = TcpOptions.SCHEME;
            }
            case "ws", "websocket" -> {
                settingsKey = "wsSettings";
                scheme = WsOptions.SCHEME;
            }
            case "httpupgrade" -> {
                settingsKey = "httpupgradeSettings";
                scheme = HttpUpgradeOptions.SCHEME;
            }
            case "grpc" -> {
                settingsKey = "grpcSettings";
                scheme = GrpcOptions.SCHEME;
            }
            case "xhttp", "splithttp" -> throw networkValue.error("not supported by tunnelwire: XHTTP");
            case "kcp", "mkcp" -> throw networkValue.error("not supported by tunnelwire: mKCP");
            case "hysteria" -> throw networkValue.error("not supported by tunnelwire: Hysteria");
            case "h2", "h3", "http" -> throw networkValue.error("Xray removed the HTTP transport (use sing-box's "
                    + "transport {\"type\": \"http\"} for the V2Ray HTTP transport)");
            case "quic" -> throw networkValue.error("Xray removed the QUIC transport");
            default -> throw networkValue.error("unknown transport protocol '" + network + "' (Xray knows raw, "
                    + "ws, httpupgrade, grpc, xhttp, kcp, hysteria)");
        }
        for (String k : new String[] {"wsSettings", "httpupgradeSettings", "grpcSettings"}) {
            s.accept(k);
            if (!k.equals(settingsKey) && s.has(k)) {
                throw s.get(k).keyError("given, but the network is '" + net + "'");
            }
        }
        s.unsupported("rawSettings", "RAW header obfuscation");
        s.unsupported("tcpSettings", "RAW header obfuscation");
        s.unsupported("xhttpSettings", "XHTTP");
        s.unsupported("splithttpSettings", "XHTTP");
        s.unsupported("kcpSettings", "mKCP");
        s.unsupported("hysteriaSettings", "Hysteria");
        s.unsupported("realitySettings", "REALITY");
        s.unsupported("sockopt", "socket options");
        s.unsupported("finalmask", "finalmask");
        s.unsupported("address", "a stream address (the node's addr is dialed)");
        s.unsupported("port", "a stream port (the node's addr is dialed)");

        Value securityValue = s.get("security");
        String security = s.string("security");
        String sec = security == null ? "none" : security.toLowerCase(Locale.ROOT);
        boolean tls = switch (sec) {
            case "", "none" -> false;
            case "tls" -> true;
            case "reality" -> throw securityValue.error("not supported by tunnelwire: REALITY");
            case "xtls" -> throw securityValue.error("Xray removed legacy XTLS");
            default -> throw securityValue.error("unknown security '" + security + "' (none, tls or reality)");
        };
        Obj tlsSettings = s.obj("tlsSettings");
        if (tlsSettings != null && !tls) {
            throw tlsSettings.keyError("given, but security is not \"tls\"");
        }
        TlsServerOptions serverTls = null;
        TlsClientOptions clientTls = null;
        if (tls) {
            Obj t = tlsSettings == null ? new Obj(s.source, s.path + ".tlsSettings", s.loc) : tlsSettings;
            if (listener) {
                serverTls = xrayServerTls(t);
            } else {
                clientTls = xrayClientTls(t);
            }
        }
        Obj settings = settingsKey == null ? null : s.obj(settingsKey);
        boolean[] proxyProtocol = new boolean[1];
        TransportOptions options = switch (scheme) {
            case WsOptions.SCHEME -> xrayWs(settings, listener, proxyProtocol, host, clientTls);
            case HttpUpgradeOptions.SCHEME -> xrayHttpUpgrade(settings, listener, proxyProtocol);
            case GrpcOptions.SCHEME -> xrayGrpc(settings, listener);
            default -> TcpOptions.defaults();
        };
        s.end();
        return new Specs.Peer(XRAY, scheme, options, serverTls, clientTls, proxyProtocol[0]);
    }

    private static WsOptions xrayWs(Obj w, boolean listener, boolean[] proxyProtocol, String nodeHost,
                                    TlsClientOptions tls) {
        WsOptions.Builder b = WsOptions.builder().textFrames(WsOptions.TextFrames.DATA);
        if (!listener) {
            // Xray's Host: wsSettings.host, else the TLS serverName, else the address, never with a port
            String name = tls != null && tls.serverName() != null ? tls.serverName() : nodeHost;
            b.host(name.indexOf(':') >= 0 ? "[" + name + "]" : name);
        }
        if (w == null) {
            return b.build();
        }
        String host = w.string("host");
        b.path(w.string("path")); // ?ed=N is Xray's early data; WsOptions parses it as Xray does
        Map<String, String> headers = new LinkedHashMap<>();
        Obj h = w.obj("headers");
        if (h != null) {
            for (String name : h.keys()) {
                String v = h.string(name);
                if (name.equalsIgnoreCase("host")) { // Xray: moved into host (deprecated)
                    if (host == null || host.isEmpty()) {
                        host = v;
                    }
                } else {
                    headers.put(canonicalHeader(name), v); // Go's http.Header.Add canonicalizes
                }
            }
            h.end();
        }
        if (listener || host != null && !host.isEmpty()) {
            b.host(host);
        }
        xrayProxyProtocol(w, listener, proxyProtocol);
        w.unsupported("heartbeatPeriod", "WebSocket heartbeat pings");
        if (listener) {
            noServerHeaders(w, headers, "Xray's ws server ignores it");
        } else {
            b.headers(headers);
        }
        WsOptions o = build(w, b::build);
        w.end();
        return o;
    }

    private static HttpUpgradeOptions xrayHttpUpgrade(Obj u, boolean listener, boolean[] proxyProtocol) {
        HttpUpgradeOptions.Builder b = HttpUpgradeOptions.builder();
        if (u == null) {
            return b.build();
        }
        b.host(u.string("host"));
        b.path(u.string("path")); // ?ed=N parsed out by HttpUpgradeOptions, as Xray's config does
        Map<String, String> headers = new LinkedHashMap<>();
        Obj h = u.obj("headers");
        if (h != null) {
            for (String name : h.keys()) {
                String v = h.string(name);
                if (name.equalsIgnoreCase("host")) {
                    throw h.get(name).keyError("Xray rejects a host header here: use httpupgradeSettings.host");
                }
                headers.put(name, v); // case-preserving, as Xray's HU client
            }
            h.end();
        }
        xrayProxyProtocol(u, listener, proxyProtocol);
        if (listener) {
            noServerHeaders(u, headers, "Xray's httpupgrade server ignores it");
        } else {
            b.headers(headers);
        }
        HttpUpgradeOptions o = build(u, b::build);
        u.end();
        return o;
    }

    private static void xrayProxyProtocol(Obj o, boolean listener, boolean[] out) {
        boolean accept = o.bool("acceptProxyProtocol", false);
        if (accept && !listener) {
            throw o.get("acceptProxyProtocol").keyError("has no effect on a dialer (Xray reads it on inbounds only)");
        }
        out[0] = accept;
    }

    private static GrpcOptions xrayGrpc(Obj g, boolean listener) {
        GrpcOptions.Builder b = GrpcOptions.builder().flavour(GrpcOptions.Flavour.GUN).customPathSyntax(true);
        if (g == null) {
            return b.build();
        }
        String name = g.string("serviceName");
        b.serviceName(name == null ? "" : name);
        boolean multi = g.bool("multiMode", false);
        H2Settings.Builder h2 = H2Settings.builder();
        Long idle = g.integer("idle_timeout", Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (idle != null && idle > 0) {
            h2.idleTimeout(Duration.ofSeconds(idle));
        }
        Long health = g.integer("health_check_timeout", Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (health != null && health > 0) {
            h2.pingTimeout(Duration.ofSeconds(health));
        }
        boolean permit = g.bool("permit_without_stream", false);
        if (listener) {
            // an Xray gun server serves Tun and TunMulti whatever multiMode says; so does ours
            b.permitKeepaliveWithoutCalls(permit);
            g.unsupported("authority", "it has no effect on a listener (Xray uses it on clients)");
            g.unsupported("user_agent", "it has no effect on a listener (Xray uses it on clients)");
            g.unsupported("initial_windows_size", "it has no effect on a listener (Xray uses it on clients)");
        } else {
            b.multi(multi);
            String authority = g.string("authority");
            b.authority(authority);
            Long window = g.integer("initial_windows_size", Integer.MIN_VALUE, Integer.MAX_VALUE);
            if (window != null && window > 0) {
                h2.streamWindow((int) (long) window);
            }
            Value uaValue = g.get("user_agent");
            String ua = g.string("user_agent");
            if (ua != null && !ua.isEmpty()) {
                b.userAgent(switch (ua) {
                    case "chrome" -> GrpcOptions.DEFAULT_GUN_USER_AGENT;
                    case "golang" -> "";
                    case "firefox", "safari", "edge", "curl" -> throw uaValue.error("not supported by tunnelwire: "
                            + "the '" + ua + "' masquerade user agent (chrome, golang or a literal string work)");
                    default -> ua;
                });
            }
        }
        b.h2(build(g, h2::build));
        GrpcOptions o = build(g, b::build);
        g.end();
        return o;
    }

    /** Xray {@code tlsSettings} of an inbound. */
    private static TlsServerOptions xrayServerTls(Obj t) {
        xrayCommonTls(t);
        t.string("serverName"); // no effect on a server without rejectUnknownSni
        t.unsupported("rejectUnknownSni", "SNI checks");
        t.unsupported("echServerKeys", "ECH");
        for (String k : new String[] {"fingerprint", "pinnedPeerCertSha256", "verifyPeerCertByName",
                "disableSystemRoot", "echConfigList", "echSockopt"}) {
            t.unsupported(k, "it has no effect on a listener (Xray uses it on clients)");
        }
        Arr certs = t.arr("certificates");
        if (certs == null || certs.items.isEmpty()) {
            throw t.error("a TLS listener needs certificates: [{certificateFile, keyFile}]");
        }
        List<Obj> list = certs.objects();
        if (list.size() > 1) {
            throw list.get(1).error("not supported by tunnelwire: more than one certificate (SNI selection)");
        }
        Obj c = list.get(0);
        String usage = c.string("usage");
        if (usage != null && !usage.isEmpty() && !usage.equalsIgnoreCase("encipherment")) {
            throw c.get("usage").error("not supported by tunnelwire: certificate usage '" + usage + "'");
        }
        c.bool("oneTimeLoading"); // we load once at start, which is what oneTimeLoading asks for
        c.unsupported("ocspStapling", "OCSP stapling");
        c.unsupported("buildChain", "chain building");
        List<String> certLines = c.strings("certificate");
        List<String> keyLines = c.strings("key");
        TlsServerOptions o = serverCertificate(c, certLines == null ? null : String.join("\n", certLines),
                c.string("certificateFile"), keyLines == null ? null : String.join("\n", keyLines),
                c.string("keyFile"), "certificate", "key", "certificateFile", "keyFile");
        c.end();
        List<String> alpn = xrayAlpn(t);
        if (alpn != null) {
            o = o.toBuilder().alpn(alpn).build();
        }
        t.end();
        return o;
    }

    /** Xray {@code tlsSettings} of an outbound. */
    private static TlsClientOptions xrayClientTls(Obj t) {
        xrayCommonTls(t);
        TlsClientOptions.Builder b = TlsClientOptions.builder();
        String serverName = t.string("serverName");
        b.serverName(serverName == null || serverName.isEmpty() ? null : serverName);
        List<String> alpn = xrayAlpn(t);
        if (alpn != null) {
            b.alpn(alpn);
        }
        Value fpValue = t.get("fingerprint");
        String fp = t.string("fingerprint");
        if (fp != null && !fp.isEmpty() && !fp.equalsIgnoreCase("unsafe")) {
            throw fpValue.error("not supported by tunnelwire: uTLS fingerprint '" + fp + "' (\"unsafe\", Go's own "
                    + "TLS stack, is the equivalent of what tunnelwire sends)");
        }
        String pins = t.string("pinnedPeerCertSha256");
        if (pins != null) {
            List<String> list = new ArrayList<>();
            for (String pin : pins.split(",")) {
                String hex = pin.trim().replace(":", "");
                if (hex.isEmpty()) {
                    continue;
                }
                if (!hex.matches("[0-9a-fA-F]{64}")) {
                    throw t.get("pinnedPeerCertSha256").error("'" + pin.trim() + "' is not the hex SHA-256 of a "
                            + "certificate (32 bytes, colons allowed)");
                }
                list.add(hex);
            }
            b.pinnedSha256(list);
        }
        t.unsupported("verifyPeerCertByName", "verification by another name (use serverName)");
        t.unsupported("echConfigList", "ECH");
        t.unsupported("echSockopt", "ECH");
        for (String k : new String[] {"rejectUnknownSni", "echServerKeys"}) {
            t.unsupported(k, "it has no effect on a dialer (Xray uses it on servers)");
        }
        boolean disableSystemRoot = t.bool("disableSystemRoot", false);
        List<X509Certificate> trusted = new ArrayList<>();
        Arr certs = t.arr("certificates");
        if (certs != null) {
            for (Obj c : certs.objects()) {
                String usage = c.string("usage");
                if (usage != null && !usage.isEmpty() && !usage.equalsIgnoreCase("encipherment")
                        && !usage.equalsIgnoreCase("verify")) {
                    throw c.get("usage").error("not supported by tunnelwire: certificate usage '" + usage + "'");
                }
                c.bool("oneTimeLoading");
                c.unsupported("key", "client certificates");
                c.unsupported("keyFile", "client certificates");
                c.unsupported("ocspStapling", "it has no effect on a dialer");
                c.unsupported("buildChain", "it has no effect on a dialer");
                String file = c.string("certificateFile");
                List<String> lines = c.strings("certificate");
                if ((file == null) == (lines == null)) {
                    throw c.error("give exactly one of certificateFile and certificate");
                }
                if (file != null) {
                    Path p = existing(c.get("certificateFile"), file);
                    try {
                        trusted.addAll(certificates(c.get("certificateFile"), Files.readString(p)));
                    } catch (IOException e) {
                        throw c.get("certificateFile").error("cannot read " + file + ": " + e.getMessage());
                    }
                } else {
                    trusted.addAll(certificates(c.get("certificate"), String.join("\n", lines)));
                }
                c.end();
            }
        }
        if (disableSystemRoot && trusted.isEmpty()) {
            throw t.get("disableSystemRoot").keyError("without certificates nothing would be trusted");
        }
        // Xray trusts the system roots plus these; we trust only these when any are given (as with
        // disableSystemRoot), which only matters for servers whose certificate is not among them
        b.trusted(trusted);
        TlsClientOptions o = build(t, b::build);
        t.end();
        return o;
    }

    private static void xrayCommonTls(Obj t) {
        Boolean allowInsecure = t.bool("allowInsecure");
        if (Boolean.TRUE.equals(allowInsecure)) {
            throw t.get("allowInsecure").keyError("Xray removed allowInsecure (use pinnedPeerCertSha256 or "
                    + "verifyPeerCertByName in Xray; here, trust the certificate with certificates)");
        }
        checkVersions(t, "minVersion", "maxVersion");
        t.unsupported("cipherSuites", "cipher suites are the JDK's defaults");
        t.unsupported("curvePreferences", "curves are the JDK's defaults");
        t.unsupported("masterKeyLog", "key logging");
        t.unsupported("enableSessionResumption", "session tickets are the JDK's defaults");
    }

    /** Xray's {@code StringList}: a list, or one comma-separated string. */
    private static List<String> xrayAlpn(Obj t) {
        Value v = t.get("alpn");
        if (v == null) {
            return null;
        }
        if (v instanceof Arr) {
            List<String> l = t.strings("alpn");
            return l.isEmpty() ? null : l;
        }
        String s = t.string("alpn");
        List<String> out = new ArrayList<>();
        for (String p : s.split(",")) {
            if (!p.isBlank()) {
                out.add(p.trim());
            }
        }
        return out.isEmpty() ? null : out;
    }

    // ------------------------------------------------------------------------------------------------ shared

    /**
     * TLS versions: the JDK stack negotiates TLS 1.2 and 1.3, as Go does by default; a configured bound that says
     * the same is accepted, any other is an error (we cannot honour it).
     */
    private static void checkVersions(Obj t, String minKey, String maxKey) {
        String min = t.string(minKey);
        if (min != null && !min.isEmpty() && !min.equals("1.2")) {
            throw t.get(minKey).error("not supported by tunnelwire: only \"1.2\" (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
        String max = t.string(maxKey);
        if (max != null && !max.isEmpty() && !max.equals("1.3")) {
            throw t.get(maxKey).error("not supported by tunnelwire: only \"1.3\" (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
    }

    /** Server certificate and key, each from a file or inline PEM (exactly one source each). */
    private static TlsServerOptions serverCertificate(Obj t, String certPem, String certFile, String keyPem,
                                                      String keyFile, String certKey, String keyKey,
                                                      String certFileKey, String keyFileKey) {
        boolean hasCertFile = certFile != null && !certFile.isEmpty();
        boolean hasKeyFile = keyFile != null && !keyFile.isEmpty();
        if (hasCertFile == (certPem != null)) {
            throw t.error("give exactly one of " + certFileKey + " and " + certKey);
        }
        if (hasKeyFile == (keyPem != null)) {
            throw t.error("give exactly one of " + keyFileKey + " and " + keyKey);
        }
        if (hasCertFile && hasKeyFile) {
            return TlsServerOptions.builder().pemFiles(existing(t.get(certFileKey), certFile),
                    existing(t.get(keyFileKey), keyFile)).build();
        }
        try {
            String certText = hasCertFile ? Files.readString(existing(t.get(certFileKey), certFile)) : certPem;
            String keyText = hasKeyFile ? Files.readString(existing(t.get(keyFileKey), keyFile)) : keyPem;
            Value certAt = t.get(hasCertFile ? certFileKey : certKey);
            Value keyAt = t.get(hasKeyFile ? keyFileKey : keyKey);
            List<X509Certificate> chain = certificates(certAt, certText);
            PrivateKey key = privateKey(keyAt, keyText);
            return TlsServerOptions.builder().keyAndChain(key, chain.toArray(new X509Certificate[0])).build();
        } catch (IOException e) {
            throw t.error("cannot read the certificate or key: " + e.getMessage());
        }
    }

    private static Path existing(Value at, String file) {
        Path p = Path.of(file);
        if (!Files.isReadable(p)) {
            throw at.error("cannot read file " + file);
        }
        return p;
    }

    static List<X509Certificate> certificates(Value at, String pem) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw at.error("no PEM certificate found");
            }
            return out;
        } catch (CertificateException e) {
            throw at.error("not a PEM certificate: " + e.getMessage());
        }
    }

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** An unencrypted PKCS#8 PEM key (RSA, EC, Ed25519). */
    static PrivateKey privateKey(Value at, String pem) {
        Matcher m = PKCS8.matcher(pem);
        if (!m.find()) {
            throw at.error("an inline key must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); other formats "
                    + "work from a key file");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        for (String alg : new String[] {"EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (Exception e) {
                // try the next algorithm
            }
        }
        throw at.error("unsupported private key algorithm");
    }

    /** Headers of {@code string -> string} (Xray) or {@code string -> string|[string]} (sing-box, one value). */
    private static Map<String, String> singleHeaders(Obj t, String key, boolean canonical) {
        Map<String, String> out = new LinkedHashMap<>();
        Obj h = t.obj(key);
        if (h == null) {
            return out;
        }
        for (String name : h.keys()) {
            List<String> values = h.listable(name);
            if (values == null || values.size() != 1) {
                throw h.get(name) == null ? h.error(name + ": needs a value")
                        : h.get(name).error("not supported by tunnelwire: exactly one value per header");
            }
            out.put(canonical ? canonicalHeader(name) : name, values.get(0));
        }
        h.end();
        return out;
    }

    private static void noServerHeaders(Obj t, Map<String, String> headers, String why) {
        if (!headers.isEmpty()) {
            throw t.get("headers").keyError("has no effect on a listener (" + why + ")");
        }
    }

    /** Go's {@code textproto.CanonicalMIMEHeaderKey}: {@code x-my-header} becomes {@code X-My-Header}. */
    static String canonicalHeader(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean token = c > ' ' && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
            if (!token || c == ' ') {
                return name; // Go leaves invalid keys unchanged
            }
        }
        StringBuilder sb = new StringBuilder(name.length());
        boolean upper = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
            upper = c == '-';
        }
        return sb.toString();
    }

    private static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    /** Go's {@code time.ParseDuration} (plus {@code d}, as sing's): {@code "1h2m3.5s"}, {@code "300ms"}, {@code "0"}. */
    static Duration goDuration(Obj t, String key) {
        String s = t.string(key);
        if (s == null) {
            return null;
        }
        Duration d = parseGoDuration(s);
        if (d == null) {
            throw t.get(key).error("invalid duration '" + s + "' (Go syntax, e.g. \"15s\", \"1m30s\")");
        }
        if (d.isNegative()) {
            throw t.get(key).error("must not be negative");
        }
        return d;
    }

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h|d)");

    static Duration parseGoDuration(String s) {
        String r = s.trim();
        boolean negative = false;
        if (r.startsWith("-") || r.startsWith("+")) {
            negative = r.startsWith("-");
            r = r.substring(1);
        }
        if (r.equals("0")) {
            return Duration.ZERO;
        }
        if (r.isEmpty()) {
            return null;
        }
        Matcher m = DURATION_PART.matcher(r);
        long nanos = 0;
        int pos = 0;
        while (pos < r.length()) {
            if (!m.find(pos) || m.start() != pos) {
                return null;
            }
            double n = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            nanos += (long) (n * unit);
            pos = m.end();
        }
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /** Runs an options builder; its validation error is reported at the object. */
    private static <T> T build(Obj at, Supplier<T> builder) {
        try {
            return builder.get();
        } catch (IllegalArgumentException e) {
            if (e instanceof ConfigTree.ConfigException) {
                throw e;
            }
            throw at.error(e.getMessage());
        }
    }
}
