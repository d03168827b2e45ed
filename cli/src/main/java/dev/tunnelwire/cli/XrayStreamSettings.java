package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.cli.ConfigTree.Arr;
import dev.tunnelwire.cli.ConfigTree.Obj;
import dev.tunnelwire.cli.ConfigTree.Value;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.ws.WsOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.tunnelwire.cli.PeerTransports.build;
import static dev.tunnelwire.cli.PeerTransports.canonicalHeader;
import static dev.tunnelwire.cli.PeerTransports.certificates;
import static dev.tunnelwire.cli.PeerTransports.checkVersions;
import static dev.tunnelwire.cli.PeerTransports.existing;
import static dev.tunnelwire.cli.PeerTransports.noServerHeaders;
import static dev.tunnelwire.cli.PeerTransports.serverCertificate;

/**
 * Xray-core v26.7.28 {@code streamSettings} as listener or dialer options ({@code infra/conf/transport_internet.go}:
 * {@code network} raw/tcp, ws, httpupgrade, grpc; {@code security} none/tls; {@code wsSettings},
 * {@code httpupgradeSettings}, {@code grpcSettings}, {@code tlsSettings}), read with Xray's field names and semantics.
 * Rules shared with sing-box's objects are in {@link PeerTransports}.
 */
final class XrayStreamSettings {

    private XrayStreamSettings() {
    }

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
        return new Specs.Peer(PeerTransports.XRAY, scheme, options, serverTls, clientTls, proxyProtocol[0]);
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
}
