package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.cli.ConfigTree.Obj;
import dev.tunnelwire.cli.ConfigTree.Value;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.ws.WsOptions;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.tunnelwire.cli.PeerTransports.build;
import static dev.tunnelwire.cli.PeerTransports.certificates;
import static dev.tunnelwire.cli.PeerTransports.checkVersions;
import static dev.tunnelwire.cli.PeerTransports.existing;
import static dev.tunnelwire.cli.PeerTransports.goDuration;
import static dev.tunnelwire.cli.PeerTransports.hostPort;
import static dev.tunnelwire.cli.PeerTransports.noServerHeaders;
import static dev.tunnelwire.cli.PeerTransports.orZero;
import static dev.tunnelwire.cli.PeerTransports.serverCertificate;
import static dev.tunnelwire.cli.PeerTransports.singleHeaders;

/**
 * sing-box v1.13.2 transport objects as listener or dialer options: {@code transport}
 * ({@code option/v2ray_transport.go}: {@code type} {@code http}, {@code ws}, {@code httpupgrade}, {@code grpc}) with
 * its sibling {@code tls} ({@code option/tls.go}: inbound fields on a listener, outbound fields on a dialer), read
 * with sing-box's field names and semantics. Rules shared with Xray's objects are in {@link PeerTransports}.
 */
final class SingBoxTransports {

    private SingBoxTransports() {
    }

    /** A sing-box inbound's {@code transport} and {@code tls} (either may be {@code null}, not both). */
    static Specs.Peer singBoxListener(Obj transport, Obj tls) {
        TlsServerOptions serverTls = tls == null ? null : singBoxInboundTls(tls);
        TransportOptions options = transport == null ? TcpOptions.defaults() : singBoxTransport(transport, true,
                null, 0, null);
        return new Specs.Peer(PeerTransports.SING_BOX, options.transport(), options, serverTls, null, false);
    }

    /** A sing-box outbound's {@code transport} and {@code tls}; {@code host}/{@code port} is the server address. */
    static Specs.Peer singBoxDialer(Obj transport, Obj tls, String host, int port) {
        TlsClientOptions clientTls = tls == null ? null : singBoxOutboundTls(tls);
        TransportOptions options = transport == null ? TcpOptions.defaults() : singBoxTransport(transport, false,
                host, port, clientTls);
        return new Specs.Peer(PeerTransports.SING_BOX, options.transport(), options, null, clientTls, false);
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
}
