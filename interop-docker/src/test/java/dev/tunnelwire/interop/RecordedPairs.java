package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.interop.RecordedPair.Half;
import dev.tunnelwire.interop.RecordedPair.Syntax;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static dev.tunnelwire.interop.RecordedPair.opts;
import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.local;

/**
 * The pairs the fixture recorder runs (all cleartext): peer client → recorder → peer server → application. The peer
 * configs are those of the interop matrix ({@link Matrix}'s stream/transport helpers), so a recorded fixture shows
 * the same wire as the matrix cell; the neutral options of each fixture are what that peer was given.
 */
final class RecordedPairs {

    static final String USER = Matrix.USER;
    static final String PASS = Matrix.PASS;
    static final String VLESS_ID = Matrix.VLESS_ID;

    private RecordedPairs() {
    }

    static List<RecordedPair> all() {
        Map<String, Object> ws = opts("path", "/ws");
        Map<String, Object> hu = opts("path", "/hu");
        Map<String, Object> gun = opts("serviceName", "gunsvc");
        Map<String, Object> users = opts("users", List.of(opts("user", USER, "password", PASS)));
        Map<String, Object> creds = opts("user", USER, "password", PASS);
        Map<String, Object> sbEdHeader = opts("path", "/ws", "earlyData", "header", "maxEarlyData", 2048,
                "earlyDataHeader", "Sec-WebSocket-Protocol");
        Map<String, Object> sbEdPath = opts("path", "/ws", "earlyData", "path", "maxEarlyData", 2048);
        return List.of(
                // WebSocket
                new RecordedPair("ws", Syntax.WS, "gost", "gost", "forward", "forward",
                        "gost ws forward tunnel (path /ws)", gostClient("forward", "ws", Map.of("path", "/ws")),
                        gostServer("forward", "ws", Map.of("path", "/ws")), false, ws, ws, false),
                new RecordedPair("ws", Syntax.WS, "xray", "xray", "tunnel", "tunnel",
                        "Xray ws raw tunnel (path /ws)", xrayClientTunnel(Matrix.ws("/ws")),
                        xrayServerTunnel(Matrix.ws("/ws")), false, ws, ws, false),
                new RecordedPair("ws", Syntax.WS, "gost", "xray", "forward_to_xray", "tunnel_from_gost",
                        "gost ws client to an Xray ws tunnel server (path /ws)",
                        gostClient("forward", "ws", Map.of("path", "/ws")), xrayServerTunnel(Matrix.ws("/ws")), false,
                        ws, ws, false),
                new RecordedPair("ws", Syntax.WS, "xray", "gost", "tunnel_to_gost", "forward_from_xray",
                        "Xray ws client to a gost ws forward server (path /ws)", xrayClientTunnel(Matrix.ws("/ws")),
                        gostServer("forward", "ws", Map.of("path", "/ws")), false, ws, ws, false),
                new RecordedPair("ws", Syntax.WS, "xray", "xray", "vless_ed2048", "vless_ed2048",
                        "Xray VLESS over ws with ?ed=2048 (early data in Sec-WebSocket-Protocol)",
                        xrayClientVless(Matrix.ws("/ws?ed=2048")), xrayServerVless(Matrix.ws("/ws")), true,
                        ws, opts("path", "/ws?ed=2048"), true),
                new RecordedPair("ws", Syntax.WS, "singbox", "singbox", "vless_ed_header", "vless_ed_header",
                        "sing-box VLESS over ws, early data in Sec-WebSocket-Protocol (max_early_data 2048)",
                        singboxClientVless(Matrix.sbWs("/ws").andThen(Matrix.SB_ED_HEADER)),
                        singboxServerVless(Matrix.sbWs("/ws").andThen(Matrix.SB_ED_HEADER)), true,
                        sbEdHeader, sbEdHeader, true),
                new RecordedPair("ws", Syntax.WS, "singbox", "singbox", "vless_ed_path", "vless_ed_path",
                        "sing-box VLESS over ws, early data appended to the path (max_early_data 2048)",
                        singboxClientVless(Matrix.sbWs("/ws").andThen(t -> t.put("max_early_data", 2048))),
                        singboxServerVless(Matrix.sbWs("/ws").andThen(t -> t.put("max_early_data", 2048))), true,
                        sbEdPath, sbEdPath, true),
                // HTTPUpgrade
                new RecordedPair("httpupgrade", Syntax.HTTPUPGRADE, "xray", "xray", "tunnel", "tunnel",
                        "Xray HTTPUpgrade raw tunnel (path /hu)", xrayClientTunnel(Matrix.hu("/hu")),
                        xrayServerTunnel(Matrix.hu("/hu")), false, hu, hu, false),
                new RecordedPair("httpupgrade", Syntax.HTTPUPGRADE, "singbox", "singbox", "vless", "vless",
                        "sing-box VLESS over HTTPUpgrade (path /hu)", singboxClientVless(Matrix.sbHu("/hu")),
                        singboxServerVless(Matrix.sbHu("/hu")), true, hu, hu, true),
                new RecordedPair("httpupgrade", Syntax.HTTPUPGRADE, "singbox", "xray", "vless_to_xray",
                        "vless_from_singbox", "sing-box VLESS over HTTPUpgrade to an Xray VLESS server (path /hu)",
                        singboxClientVless(Matrix.sbHu("/hu")), xrayServerVless(Matrix.hu("/hu")), true, hu, hu, true),
                // V2Ray HTTP over HTTP/1.1 (cleartext)
                new RecordedPair("http", Syntax.HTTP1, "singbox", "singbox", "vless_h1", "vless_h1",
                        "sing-box VLESS over the V2Ray HTTP transport, cleartext HTTP/1.1 (path /h)",
                        singboxClientVless(Matrix.sbHttp("/h")), singboxServerVless(Matrix.sbHttp("/h")), true,
                        opts("path", "/h"), opts("path", "/h"), true),
                // gun
                new RecordedPair("grpc", Syntax.GRPC, "xray", "xray", "tunnel_tun", "tunnel_tun",
                        "Xray gun raw tunnel, Tun (serviceName gunsvc)",
                        xrayClientTunnel(Matrix.grpc("gunsvc", false)),
                        xrayServerTunnel(Matrix.grpc("gunsvc", false)), false, gun, gun, false),
                new RecordedPair("grpc", Syntax.GRPC, "xray", "xray", "tunnel_tunmulti", "tunnel_tunmulti",
                        "Xray gun raw tunnel, TunMulti (serviceName gunsvc, multiMode)",
                        xrayClientTunnel(Matrix.grpc("gunsvc", true)),
                        xrayServerTunnel(Matrix.grpc("gunsvc", false)), false, gun,
                        opts("serviceName", "gunsvc", "multiMode", true), false),
                new RecordedPair("grpc", Syntax.GRPC, "singbox", "singbox", "vless_lite", "vless_lite",
                        "sing-box (gRPC lite) VLESS over gun (service_name TunService)",
                        singboxClientVless(Matrix.sbGrpc("TunService")),
                        singboxServerVless(Matrix.sbGrpc("TunService")), true,
                        opts("serviceName", "TunService"), opts("serviceName", "TunService"), true),
                new RecordedPair("grpc", Syntax.GRPC, "singbox-grpc", "singbox-grpc", "vless", "vless",
                        "sing-box with grpc-go (with_grpc) VLESS over gun (service_name TunService)",
                        singboxClientVless(Matrix.sbGrpc("TunService")),
                        singboxServerVless(Matrix.sbGrpc("TunService")), true,
                        opts("serviceName", "TunService"), opts("serviceName", "TunService"), true),
                // gost's gRPC tunnel: its fixed path /GostTunel/Tunnel is the neutral serviceName in Xray's custom
                // path form (a leading "/" names the whole path)
                new RecordedPair("grpc", Syntax.GRPC, "gost", "gost", "forward", "forward",
                        "gost gRPC forward tunnel (cleartext, grpcInsecure)",
                        gostClient("forward", "grpc", Map.of("grpcInsecure", true)),
                        gostServer("forward", "grpc", Map.of("grpcInsecure", true)), false, opts("serviceName", "/GostTunel/Tunnel"),
                        opts("serviceName", "/GostTunel/Tunnel"), false),
                new RecordedPair("grpc", Syntax.GRPC, "xray", "gost", "tunnel_to_gost", "forward_from_xray",
                        "Xray gun client (custom path /GostTunel/Tunnel) to a gost gRPC forward server",
                        xrayClientTunnel(Matrix.grpc("/GostTunel/Tunnel", false)),
                        gostServer("forward", "grpc", Map.of("grpcInsecure", true)), false, opts("serviceName", "/GostTunel/Tunnel"),
                        opts("serviceName", "/GostTunel/Tunnel"), false),
                // GOST h2c tunnel
                new RecordedPair("h2tunnel", Syntax.H2, "gost", "gost", "forward", "forward",
                        "gost h2c forward tunnel (CONNECT stream)", gostClient("forward", "h2c", Map.of()),
                        gostServer("forward", "h2c", Map.of()), false, opts(), opts(), false),
                // GOST plain HTTP tunnel
                new RecordedPair("pht", Syntax.PHT, "gost", "gost", "forward", "forward",
                        "gost pht forward tunnel (default paths)", gostClient("forward", "pht", Map.of()),
                        gostServer("forward", "pht", Map.of()), false, opts(), opts(), false),
                // proxy protocols over raw TCP
                new RecordedPair("socks5", Syntax.RAW, "gost", "gost", "auth", "auth",
                        "gost SOCKS5 with username/password", gostClient("socks5", "tcp", Map.of("notls", true)),
                        gostServer("socks5", "tcp", Map.of("notls", true)), false, users, creds, false),
                new RecordedPair("http_connect", Syntax.RAW, "gost", "gost", "auth", "auth",
                        "gost HTTP CONNECT with Basic proxy authorization", gostClient("http", "tcp", Map.of()),
                        gostServer("http", "tcp", Map.of()), false, users, creds, false),
                new RecordedPair("relay", Syntax.RAW, "gost", "gost", "auth", "auth",
                        "gost relay with user authentication", gostClient("relay", "tcp", Map.of()),
                        gostServer("relay", "tcp", Map.of()), false, users, creds, false),
                new RecordedPair("vless", Syntax.RAW, "xray", "singbox", "tcp_to_singbox", "tcp_from_xray",
                        "Xray VLESS client to a sing-box VLESS server (raw TCP)",
                        xrayClientVless(s -> s.put("network", "raw")), singboxServerVless(t -> { }), true,
                        opts("users", List.of(VLESS_ID)), opts("uuid", VLESS_ID), false),
                new RecordedPair("vless", Syntax.RAW, "singbox", "xray", "tcp_to_xray", "tcp_from_singbox",
                        "sing-box VLESS client to an Xray VLESS server (raw TCP)", singboxClientVless(t -> { }),
                        xrayServerVless(s -> s.put("network", "raw")), true,
                        opts("users", List.of(VLESS_ID)), opts("uuid", VLESS_ID), false));
    }

    // ---------------------------------------------------------------- gost

    /**
     * A gost service on {@code listener} with handler {@code handler} (forward: to the application; a proxy handler
     * with the user {@value Matrix#USER}).
     */
    static Half gostServer(String handler, String listener, Map<String, ?> md) {
        return (role, tag, p) -> {
            ObjectNode svc = ((Role.Gost) role).services.addObject().put("name", tag).put("addr", local(p.listen()));
            ObjectNode h = svc.putObject("handler").put("type", handler);
            ObjectNode l = svc.putObject("listener").put("type", listener);
            if (handler.equals("forward")) {
                l.set("metadata", Role.JSON.valueToTree(md));
                svc.putObject("forwarder").putArray("nodes").addObject().put("name", "app")
                        .put("addr", local(p.app()));
            } else {
                h.putObject("auth").put("username", USER).put("password", PASS);
                h.set("metadata", Role.JSON.valueToTree(md));
            }
        };
    }

    /**
     * A gost tcp service (the entry, forwarding to the application) through a chain whose node has connector
     * {@code connector} over dialer {@code dialer}.
     */
    static Half gostClient(String connector, String dialer, Map<String, ?> md) {
        return (role, tag, p) -> {
            Role.Gost g = (Role.Gost) role;
            String chain = "chain-" + tag;
            ObjectNode svc = g.services.addObject().put("name", tag).put("addr", local(p.entry()));
            svc.putObject("handler").put("type", "tcp").put("chain", chain);
            svc.putObject("listener").put("type", "tcp");
            svc.putObject("forwarder").putArray("nodes").addObject().put("name", "app").put("addr", local(p.app()));
            ObjectNode node = g.chains.addObject().put("name", chain).putArray("hops").addObject()
                    .put("name", "hop-" + tag).putArray("nodes").addObject()
                    .put("name", "node-" + tag).put("addr", local(p.dial()));
            ObjectNode c = node.putObject("connector").put("type", connector);
            ObjectNode d = node.putObject("dialer").put("type", dialer);
            if (connector.equals("forward")) {
                d.set("metadata", Role.JSON.valueToTree(md));
            } else {
                c.putObject("auth").put("username", USER).put("password", PASS);
                c.set("metadata", Role.JSON.valueToTree(md));
            }
        };
    }

    // ---------------------------------------------------------------- Xray

    /** Xray {@code tunnel} inbound with the given streamSettings, to the application. */
    static Half xrayServerTunnel(Consumer<ObjectNode> stream) {
        return (role, tag, p) -> {
            ObjectNode in = ((Role.Xray) role).inbounds.addObject().put("tag", tag).put("listen", "127.0.0.1")
                    .put("port", p.listen()).put("protocol", "tunnel");
            in.putObject("settings").put("address", "127.0.0.1").put("port", p.app()).put("network", "tcp");
            in.set("streamSettings", Matrix.xrayStream(stream, false, true));
        };
    }

    /** Xray {@code tunnel} inbound (entry, to the application) → {@code freedom} over the transport. */
    static Half xrayClientTunnel(Consumer<ObjectNode> stream) {
        return (role, tag, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "in-" + tag;
            String out = "out-" + tag;
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.entry())
                    .put("protocol", "tunnel").putObject("settings").put("address", "127.0.0.1")
                    .put("port", p.app()).put("network", "tcp");
            ObjectNode o = x.outbounds.addObject().put("tag", out).put("protocol", "freedom");
            o.putObject("settings").put("redirect", local(p.dial()));
            o.set("streamSettings", Matrix.xrayStream(stream, false, false));
            x.rules.addObject().put("type", "field").put("outboundTag", out).putArray("inboundTag").add(in);
        };
    }

    /** Xray {@code vless} inbound → freedom. */
    static Half xrayServerVless(Consumer<ObjectNode> stream) {
        return (role, tag, p) -> {
            ObjectNode in = ((Role.Xray) role).inbounds.addObject().put("tag", tag).put("listen", "127.0.0.1")
                    .put("port", p.listen()).put("protocol", "vless");
            ObjectNode st = in.putObject("settings").put("decryption", "none");
            st.putArray("clients").addObject().put("id", VLESS_ID);
            in.set("streamSettings", Matrix.xrayStream(stream, false, true));
        };
    }

    /** Xray {@code socks} inbound (entry) → {@code vless} outbound. */
    static Half xrayClientVless(Consumer<ObjectNode> stream) {
        return (role, tag, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "in-" + tag;
            String o = "out-" + tag;
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.entry())
                    .put("protocol", "socks").putObject("settings").put("auth", "noauth").put("udp", false);
            ObjectNode ob = x.outbounds.addObject().put("tag", o).put("protocol", "vless");
            ob.putObject("settings").put("address", "127.0.0.1").put("port", p.dial()).put("id", VLESS_ID)
                    .put("encryption", "none");
            ob.set("streamSettings", Matrix.xrayStream(stream, false, false));
            x.rules.addObject().put("type", "field").put("outboundTag", o).putArray("inboundTag").add(in);
        };
    }

    // ---------------------------------------------------------------- sing-box

    /** sing-box {@code vless} inbound with the transport (empty: raw TCP) → direct. */
    static Half singboxServerVless(Consumer<ObjectNode> transport) {
        return (role, tag, p) -> {
            ObjectNode in = ((Role.Singbox) role).inbounds.addObject().put("type", "vless").put("tag", tag)
                    .put("listen", "127.0.0.1").put("listen_port", p.listen());
            in.putArray("users").addObject().put("name", "u").put("uuid", VLESS_ID);
            ObjectNode t = F.objectNode();
            transport.accept(t);
            if (!t.isEmpty()) {
                in.set("transport", t);
            }
        };
    }

    /** sing-box {@code mixed} inbound (SOCKS5 entry) → {@code vless} outbound with the transport. */
    static Half singboxClientVless(Consumer<ObjectNode> transport) {
        return (role, tag, p) -> {
            Role.Singbox sb = (Role.Singbox) role;
            String in = "in-" + tag;
            String o = "out-" + tag;
            sb.inbounds.addObject().put("type", "mixed").put("tag", in).put("listen", "127.0.0.1")
                    .put("listen_port", p.entry());
            ObjectNode ob = sb.outbounds.addObject().put("type", "vless").put("tag", o).put("server", "127.0.0.1")
                    .put("server_port", p.dial()).put("uuid", VLESS_ID).put("packet_encoding", "");
            ObjectNode t = F.objectNode();
            transport.accept(t);
            if (!t.isEmpty()) {
                ob.set("transport", t);
            }
            ObjectNode rule = sb.rules.addObject().put("action", "route").put("outbound", o);
            rule.putArray("inbound").add(in);
        };
    }
}
