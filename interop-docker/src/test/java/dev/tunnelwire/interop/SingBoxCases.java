package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Fixture;
import dev.tunnelwire.interop.PeerCases.Result;

import java.util.Set;

import static dev.tunnelwire.interop.PeerCases.badDestination;
import static dev.tunnelwire.interop.PeerCases.destination;
import static dev.tunnelwire.interop.PeerCases.host;
import static dev.tunnelwire.interop.PeerCases.key;
import static dev.tunnelwire.interop.PeerCases.port;
import static dev.tunnelwire.interop.PeerCases.server;

/** The conformance cases mapped onto sing-box 1.13.2 (inbounds, outbounds, route rules; peer-singbox.md section 7). */
final class SingBoxCases {

    private SingBoxCases() {
    }

    /**
     * sing-box: raw TCP as a {@code direct} inbound (server, with an override to the application) or a {@code direct}
     * inbound in front of an outbound (client); VLESS, SOCKS5 and HTTP as inbounds and outbounds. Its transports (ws,
     * httpupgrade, http, grpc) exist only inside VLESS/VMess/Trojan, so the raw-tunnel transport cases do not apply.
     */
    static Result singbox(Fixture f) {
        String t = f.transport();
        if (Set.of("ws", "httpupgrade", "http", "grpc").contains(t)) {
            return Result.na("sing-box's " + t + " transport exists only under VLESS/VMess/Trojan (no raw tunnel "
                    + "over it), so these raw-tunnel cases cannot be put to it");
        }
        if (Set.of("pht", "relay", "h2tunnel", "http2").contains(t)) {
            return Result.na("sing-box has no " + t + " (gost's)");
        }
        String bad = badDestination(f);
        if (bad != null) {
            return Result.na(bad);
        }
        if (t.equals("tcp") && !f.options().isEmpty()) {
            return Result.na("sing-box removed PROXY protocol support (inbound proxy_protocol, outbound "
                    + "proxy_protocol) in 1.6");
        }
        JsonNode options = f.options();
        if (server(f)) {
            return Result.of(key("singbox", f, ""), (role, p) -> {
                Role.Singbox sb = (Role.Singbox) role;
                ObjectNode in = sb.inbounds.addObject().put("tag", "conf-" + p.listen()).put("listen", "127.0.0.1")
                        .put("listen_port", p.listen());
                switch (t) {
                    case "tcp" -> in.put("type", "direct").put("network", "tcp").put("override_address", "127.0.0.1")
                            .put("override_port", p.target());
                    case "vless" -> {
                        in.put("type", "vless");
                        ArrayNode users = in.putArray("users");
                        for (JsonNode u : options.path("users")) {
                            users.addObject().put("name", u.asText()).put("uuid", u.asText());
                        }
                    }
                    default -> {
                        in.put("type", t.equals("socks5") ? "socks" : "http");
                        if (options.path("users").size() > 0) {
                            ArrayNode users = in.putArray("users");
                            for (JsonNode u : options.path("users")) {
                                users.addObject().put("username", u.path("user").asText())
                                        .put("password", u.path("password").asText());
                            }
                        }
                    }
                }
            });
        }
        if (t.equals("tcp")) {
            // the direct inbound's override sends the connection to the fake server through the direct outbound
            return Result.of(key("singbox", f, ""), (role, p) -> ((Role.Singbox) role).inbounds.addObject()
                    .put("type", "direct").put("tag", "conf-" + p.listen()).put("listen", "127.0.0.1")
                    .put("listen_port", p.listen()).put("network", "tcp").put("override_address", "127.0.0.1")
                    .put("override_port", p.target()));
        }
        String dest = destination(f);
        return Result.of(key("singbox", f, " -> " + dest), (role, p) -> {
            Role.Singbox sb = (Role.Singbox) role;
            String in = "conf-in-" + p.listen();
            String out = "conf-out-" + p.listen();
            sb.inbounds.addObject().put("type", "direct").put("tag", in).put("listen", "127.0.0.1")
                    .put("listen_port", p.listen()).put("network", "tcp").put("override_address", host(dest))
                    .put("override_port", port(dest));
            ObjectNode o = sb.outbounds.addObject().put("tag", out);
            switch (t) {
                case "vless" -> o.put("type", "vless").put("server", "127.0.0.1").put("server_port", p.target())
                        .put("uuid", options.path("uuid").asText()).put("packet_encoding", "");
                case "socks5" -> {
                    o.put("type", "socks").put("version", "5").put("server", "127.0.0.1")
                            .put("server_port", p.target());
                    if (options.has("user")) {
                        o.put("username", options.path("user").asText())
                                .put("password", options.path("password").asText());
                    }
                }
                default -> {
                    o.put("type", "http").put("server", "127.0.0.1").put("server_port", p.target());
                    if (options.has("user")) {
                        o.put("username", options.path("user").asText())
                                .put("password", options.path("password").asText());
                    }
                }
            }
            ObjectNode rule = sb.rules.addObject().put("action", "route").put("outbound", out);
            rule.putArray("inbound").add(in);
        });
    }
}
