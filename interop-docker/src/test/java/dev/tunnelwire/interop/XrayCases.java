package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Fixture;
import dev.tunnelwire.interop.PeerCases.Result;

import java.util.List;
import java.util.Set;

import static dev.tunnelwire.interop.PeerCases.badDestination;
import static dev.tunnelwire.interop.PeerCases.destination;
import static dev.tunnelwire.interop.PeerCases.host;
import static dev.tunnelwire.interop.PeerCases.key;
import static dev.tunnelwire.interop.PeerCases.opt;
import static dev.tunnelwire.interop.PeerCases.port;
import static dev.tunnelwire.interop.PeerCases.server;
import static dev.tunnelwire.interop.PeerCases.unknown;
import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.local;

/** The conformance cases mapped onto Xray-core 26.7.28 (inbounds, outbounds, routing; peer-xray.md sections 7-8). */
final class XrayCases {

    private XrayCases() {
    }

    /**
     * Xray: transports on the {@code tunnel} (dokodemo) inbound (server) or the {@code freedom} outbound redirected to
     * the fake server (client), proxies on the vless/socks/http inbounds and outbounds. peer-xray.md §7-8.
     */
    static Result xray(Fixture f) {
        String t = f.transport();
        if (Set.of("pht", "relay", "h2tunnel", "http2").contains(t)) {
            return Result.na("Xray has no " + switch (t) {
                case "pht" -> "PHT transport (gost's)";
                case "relay" -> "relay protocol (gost's)";
                case "http2" -> "HTTP/2 CONNECT proxy (gost's)";
                default -> "h2c CONNECT tunnel (gost's)";
            });
        }
        if (t.equals("http")) {
            return Result.na("Xray removed the V2Ray HTTP transport in v24.12.15 (peer-xray.md §6)");
        }
        String bad = badDestination(f);
        if (bad != null) {
            return Result.na(bad);
        }
        ObjectNode stream = F.objectNode();
        String proxy = null;
        ObjectNode freedom = F.objectNode();
        switch (t) {
            case "tcp" -> {
                Set<String> u = unknown(f, Set.of("listener", "dialer"));
                if (!u.isEmpty()) {
                    return Result.na("Xray: no equivalent of " + u);
                }
                stream.put("network", "raw");
                if (f.options().path("listener").path("acceptProxyProtocol").asBoolean(false)) {
                    stream.putObject("sockopt").put("acceptProxyProtocol", true);
                }
                String pp = f.options().path("dialer").path("proxyProtocol").asText("");
                if (!pp.isEmpty()) {
                    freedom.put("proxyProtocol", pp.equals("v2") ? 2 : 1);
                }
            }
            case "ws" -> {
                String why = xrayWs(f, stream);
                if (why != null) {
                    return Result.na(why);
                }
            }
            case "httpupgrade" -> {
                Set<String> u = unknown(f, Set.of("path", "host", "headers", "reject", "earlyData"));
                String ed = opt(f, "earlyData");
                if (!u.isEmpty() || (ed != null && !ed.equals("none"))) {
                    return Result.na("Xray's httpupgrade has no " + (u.isEmpty() ? "earlyData " + ed : u)
                            + " option (its early data is ?ed= in the path, pipelined behind the head)");
                }
                if ("status".equals(opt(f, "reject"))) {
                    return Result.na("Xray's httpupgrade server cannot answer a rejection with a status");
                }
                ObjectNode hu = stream.put("network", "httpupgrade").putObject("httpupgradeSettings")
                        .put("path", opt(f, "path") == null ? "/" : opt(f, "path"));
                if (opt(f, "host") != null) {
                    hu.put("host", opt(f, "host"));
                }
                ObjectNode headers = f.options().has("headers") ? (ObjectNode) f.options().get("headers").deepCopy()
                        : F.objectNode();
                if (!server(f) && !f.id().equals(XRAY_HU_DEFAULT_HEADERS_CASE)) {
                    // Xray's special User-Agent "golang" selects Go's default request (common/utils/browser.go:283)
                    headers.put("User-Agent", "golang");
                }
                if (!headers.isEmpty()) {
                    hu.set("headers", headers);
                }
            }
            case "grpc" -> {
                String svc = opt(f, "serviceName");
                if (svc == null || svc.isEmpty()) {
                    return Result.na("Xray's grpcSettings.serviceName has no empty default (an empty name is "
                            + "//Tun)");
                }
                ObjectNode g = stream.put("network", "grpc").putObject("grpcSettings").put("serviceName", svc);
                if (f.options().path("multiMode").asBoolean(false)) {
                    g.put("multiMode", true);
                }
            }
            case "vless", "socks5", "http_connect" -> {
                stream.put("network", "raw");
                proxy = t;
            }
            default -> {
                return Result.na("Xray has no " + t);
            }
        }
        stream.put("security", "none");
        String pr = proxy;
        JsonNode options = f.options();
        if (server(f)) {
            return Result.of(key("xray", f, ""), (role, p) -> {
                Role.Xray x = (Role.Xray) role;
                ObjectNode in = x.inbounds.addObject().put("tag", "conf-" + p.listen()).put("listen", "127.0.0.1")
                        .put("port", p.listen());
                if (pr == null) {
                    in.put("protocol", "tunnel").putObject("settings").put("address", "127.0.0.1")
                            .put("port", p.target()).put("network", "tcp");
                } else if (pr.equals("vless")) {
                    ObjectNode st = in.put("protocol", "vless").putObject("settings").put("decryption", "none");
                    ArrayNode clients = st.putArray("clients");
                    for (JsonNode u : options.path("users")) {
                        clients.addObject().put("id", u.asText());
                    }
                } else {
                    ObjectNode st = in.put("protocol", pr.equals("socks5") ? "socks" : "http").putObject("settings");
                    JsonNode users = options.path("users");
                    if (pr.equals("socks5")) {
                        st.put("auth", users.size() > 0 ? "password" : "noauth").put("udp", false);
                    }
                    if (users.size() > 0) {
                        ArrayNode acc = st.putArray("accounts");
                        for (JsonNode u : users) {
                            acc.addObject().put("user", u.path("user").asText())
                                    .put("pass", u.path("password").asText());
                        }
                    }
                }
                in.set("streamSettings", stream);
            });
        }
        String dest = pr == null ? "127.0.0.1:9" : destination(f);
        String explicitHost = stream.toString().contains(HOST_WITH_PORT) ? " Host=127.0.0.1:port" : "";
        return Result.of(key("xray", f, " -> " + dest + explicitHost), (role, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "conf-in-" + p.listen();
            String out = "conf-out-" + p.listen();
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.listen())
                    .put("protocol", "tunnel").putObject("settings").put("address", host(dest))
                    .put("port", port(dest)).put("network", "tcp");
            ObjectNode o = x.outbounds.addObject().put("tag", out);
            if (pr == null) {
                o.put("protocol", "freedom");
                ObjectNode st = freedom.deepCopy().put("redirect", local(p.target()));
                o.set("settings", st);
            } else if (pr.equals("vless")) {
                o.put("protocol", "vless").putObject("settings").put("address", "127.0.0.1").put("port", p.target())
                        .put("id", options.path("uuid").asText()).put("encryption", "none");
            } else {
                ObjectNode server = o.put("protocol", pr.equals("socks5") ? "socks" : "http").putObject("settings")
                        .putArray("servers").addObject().put("address", "127.0.0.1").put("port", p.target());
                if (options.has("user")) {
                    server.putArray("users").addObject().put("user", options.path("user").asText())
                            .put("pass", options.path("password").asText());
                }
            }
            ObjectNode st = stream.deepCopy();
            resolveHost(st, p.target());
            o.set("streamSettings", st);
            x.rules.addObject().put("type", "field").put("outboundTag", out).putArray("inboundTag").add(in);
        });
    }

    /** Marks the settings object of an Xray client that gets {@code host = 127.0.0.1:<fake server port>}. */
    static final String HOST_WITH_PORT = "@hostWithPort@";

    /**
     * Xray's ws and httpupgrade clients send {@code Host} without the port when no host is configured
     * (websocket/dialer.go:144-150, httpupgrade/dialer.go:83-89 at v26.7.28), which {@code ws.client.handshake_basic}
     * documents as a deviation. Every other client case configures the host explicitly as the authority the RFC
     * requires ({@code 127.0.0.1:<port>}), so that the rest of the case is exercised.
     */
    private static void xrayExplicitHost(Fixture f, ObjectNode settings) {
        if (!server(f) && opt(f, "host") == null && !f.id().endsWith(".client.handshake_basic")) {
            settings.put("host", HOST_WITH_PORT);
        }
    }

    private static void resolveHost(ObjectNode stream, int port) {
        for (String k : List.of("wsSettings", "httpupgradeSettings")) {
            JsonNode s = stream.get(k);
            if (s != null && HOST_WITH_PORT.equals(s.path("host").asText())) {
                ((ObjectNode) s).put("host", local(port));
            }
        }
    }

    /**
     * The one httpupgrade client case run with Xray's default headers: since v26 Xray masquerades as Chrome
     * (User-Agent, Sec-CH-UA, Sec-Fetch-*: common/utils/browser.go:266 TryDefaultHeadersWith), which that case
     * documents as a deviation; the other cases configure {@code User-Agent: golang}, Xray's switch to Go's request.
     */
    static final String XRAY_HU_DEFAULT_HEADERS_CASE = "httpupgrade.client.request_go_order";

    /** Xray's httpupgrade client panics (dialer.go:41) when the 101 and data arrive in one read. */
    static final String XRAY_HU_PANIC_CASE = "httpupgrade.client.bytes_after_101_delivered";

    private static String xrayWs(Fixture f, ObjectNode stream) {
        Set<String> u = unknown(f, Set.of("path", "host", "headers", "earlyData", "earlyDataHeader", "maxEarlyData"));
        if (!u.isEmpty()) {
            return "Xray's ws has no " + u + " option";
        }
        String ed = opt(f, "earlyData");
        String path = opt(f, "path") == null ? "/" : opt(f, "path");
        if (server(f)) {
            // Xray's ws server always accepts header-mode early data in Sec-WebSocket-Protocol (hub.go)
            if ("path".equals(ed)) {
                return "Xray's ws server has no path-mode early data (sing-box's dialect)";
            }
            String hdr = opt(f, "earlyDataHeader");
            if (hdr != null && !hdr.equalsIgnoreCase("Sec-WebSocket-Protocol")) {
                return "Xray's ws server reads early data from Sec-WebSocket-Protocol only";
            }
            if (f.options().has("headers")) {
                return "Xray's ws server cannot add headers to its 101";
            }
        } else {
            if ((ed != null && !ed.equals("none")) || path.contains("?ed=")) {
                return "Xray's freedom outbound over ws with early data (?ed=) panics on the first connection "
                        + "(proxy/freedom/freedom.go:378, delayDialConn.LocalAddr); " + Matrix.XRAY_FREEDOM_WS_ED_PANIC;
            }
        }
        ObjectNode ws = stream.put("network", "ws").putObject("wsSettings").put("path", path);
        if (opt(f, "host") != null) {
            ws.put("host", opt(f, "host"));
        }
        xrayExplicitHost(f, ws);
        if (f.options().has("headers")) {
            ws.set("headers", f.options().get("headers"));
        }
        return null;
    }
}
