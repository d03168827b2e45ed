package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.interop.Cell.Direction;
import dev.tunnelwire.interop.CellDef.Entry;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.http.HttpConnector;
import dev.tunnelwire.proxy.http2.Http2ProxyConnector;
import dev.tunnelwire.proxy.http2.Http2ProxyHandler;
import dev.tunnelwire.proxy.http.HttpConnectorOptions;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.relay.RelayConnector;
import dev.tunnelwire.proxy.relay.RelayConnectorOptions;
import dev.tunnelwire.proxy.relay.RelayHandler;
import dev.tunnelwire.proxy.relay.RelayHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Connector;
import dev.tunnelwire.proxy.socks5.Socks5ConnectorOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessConnector;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static dev.tunnelwire.interop.Cell.Direction.INBOUND;
import static dev.tunnelwire.interop.Cell.Direction.OUTBOUND;
import static dev.tunnelwire.interop.Role.CA;
import static dev.tunnelwire.interop.Role.CERT;
import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.KEY;
import static dev.tunnelwire.interop.Role.local;
import static dev.tunnelwire.interop.Role.pki;

/**
 * The table of cells. Adding a transport is a few lines here: one call per peer and direction with the peer's
 * transport settings (gost metadata, Xray {@code streamSettings}, sing-box {@code transport}) and our side's
 * gost-style parameters.
 */
final class Matrix {

    /**
     * Xray v26.7.28: a {@code tunnel} inbound over raw TCP with {@code security: tls} answers in plaintext. The
     * handshake completes and the uplink is decrypted, but the downlink is spliced around TLS: dokodemo marks every
     * inbound splice-capable ({@code proxy/dokodemo/dokodemo.go:140 inbound.CanSpliceCopy = 1}), freedom's response
     * path checks only its own outbound conn ({@code proxy/freedom/freedom.go:433-440}), and
     * {@code proxy.CopyRawConnIfExist} unwraps the inbound {@code *tls.Conn} to the raw socket
     * ({@code proxy/proxy.go:691 UnwrapRawConn}). The transcript of this cell shows the TLS handshake, then the echo
     * arriving as plaintext. Related report of plaintext mixed into TLS with dokodemo + freedom:
     * https://github.com/XTLS/Xray-core/issues/3529.
     */
    static final String XRAY_TUNNEL_TLS_SPLICE = "Xray tunnel (dokodemo) inbound over raw TCP+TLS sends the downlink "
            + "in plaintext: dokodemo.go:140 sets CanSpliceCopy=1 whatever the security, and freedom's splice "
            + "(freedom.go:433-440, proxy.go:691 UnwrapRawConn strips *tls.Conn) writes the target's bytes to the raw "
            + "socket; related: https://github.com/XTLS/Xray-core/issues/3529";

    /**
     * Xray v26.7.28: a {@code freedom} outbound whose streamSettings are ws with {@code ?ed=} panics the whole
     * process on the first connection: the ws dialer returns a {@code delayDialConn} (the real dial waits for the
     * early data) and freedom's Process logs {@code conn.LocalAddr()} at {@code proxy/freedom/freedom.go:378}, which
     * dereferences the not-yet-dialled connection: "panic: runtime error: invalid memory address or nil pointer
     * dereference ... websocket.(*delayDialConn).LocalAddr ... freedom.(*Handler).Process freedom.go:378". Only
     * the raw-tunnel setup (freedom over a transport) hits it; VLESS outbounds over ws with ed are unaffected.
     */
    static final String XRAY_FREEDOM_WS_ED_PANIC = "Xray freedom outbound over ws with ?ed= panics (nil pointer): "
            + "websocket.(*delayDialConn).LocalAddr called from freedom.(*Handler).Process (proxy/freedom/freedom.go:378)"
            + " before the delayed dial; the peer log of this cell has the stack trace";

    /**
     * Xray v26.7.28 HTTPUpgrade server: the request head is parsed through a {@code bufio.Reader}
     * ({@code transport/internet/httpupgrade/hub.go:51-53}) but the raw {@code conn} is handed on
     * ({@code hub.go:96}), so bytes pipelined behind the head ({@code ?ed=}) that arrived in the same read are
     * discarded. Over TLS each record is read separately and our dialer sends the payload in a record of its own, so
     * only cleartext loses it (intermittently: whenever head and payload are coalesced). peer-xray.md §2.5.
     */
    static final String XRAY_HU_ED_PLAIN_LOSS = "Xray HTTPUpgrade server drops early data pipelined behind the "
            + "request head on cleartext: hub.go:51-53 parses through a bufio.Reader, hub.go:96 hands on the raw conn, "
            + "so buffered payload bytes are lost (peer-xray.md §2.5); the first ping never reaches the target";

    /**
     * Xray v26.7.28 HTTPUpgrade client with {@code ?ed=}: it sends the early data behind its request and then reads
     * the 101 through a reader that does not hand on bytes that arrived in the same read, so a server that answers
     * at once (the 101, then the VLESS response and the first echoed bytes) sometimes loses the client the start of
     * the response: Xray logs "failed to decode response header addons" and resets the connection. Seen in 3 of 20
     * tunnels against our server with an immediate echo; over TLS each record arrives separately and it never
     * happens (docs/transports/httpupgrade.md, "Problems found with real peers").
     */
    static final String XRAY_HU_CLIENT_ED_COALESCED_101 = "Xray HTTPUpgrade client with ?ed= loses response bytes "
            + "that arrive in the same read as the 101 (\"failed to decode response header addons\", then RST); "
            + "cleartext only, intermittent (3 of 20 tunnels with an immediate echo); docs/transports/httpupgrade.md";

    /**
     * sing-box v1.13.2 HTTPUpgrade server: it writes the 101 and then hijacks the connection, discarding the buffered
     * reader that Go's hijack returns (transport/v2rayhttpupgrade/server.go:105-110; peer-singbox.md §4.3). Go's
     * server keeps a background read going while the handler runs and moves the byte it took into that reader, so
     * the first byte a fast client sends right after receiving the 101 is sometimes lost. Observed: sing-box logs
     * "process connection ...: unknown version: 39" — 0x27 is the first byte of the VLESS user id, i.e. the VLESS
     * version byte 0x00 before it was dropped; intermittent (about one tunnel in a few hundred here).
     */
    static final String SINGBOX_HU_HIJACK_LOSS = "sing-box HTTPUpgrade server drops the first byte sent right after "
            + "its 101: server.go:105-110 hijacks and discards Go's buffered reader, which holds the background-read "
            + "byte (peer-singbox.md §4.3); sing-box then logs \"unknown version: 39\" (0x27 = first byte of the "
            + "VLESS id, the 0x00 version byte was lost); intermittent";

    private Matrix() {
    }

    static List<CellDef> cells() {
        List<CellDef> l = new ArrayList<>();
        for (boolean tls : new boolean[] {false, true}) {
            // gost forward handler: the transport's byte stream goes to a fixed target (peer-gost.md §10)
            gostForward(l, "tcp", tls, tls ? "tls" : "tcp", Map.of(), OurSide.raw("tcp", Map.of()));
            gostForward(l, "pht", tls, tls ? "phts" : "pht", Map.of(), OurSide.raw("pht", Map.of()));
            // gost h2 (TLS) / h2c tunnels: one HTTP/2 CONNECT stream per tunnel (peer-gost.md §4)
            gostForward(l, "h2", tls, tls ? "h2" : "h2c", Map.of(), OurSide.raw(tls ? "h2" : "h2c", Map.of()));
            gostForward(l, "ws", tls, tls ? "wss" : "ws", Map.of("path", "/ws"), OurSide.raw("ws", Map.of("path", "/ws")));

            // Xray tunnel (dokodemo) inbound / freedom outbound with streamSettings: raw bytes over the transport
            // (peer-xray.md §7.2, §8.4)
            CellDef xrayRawOut = xrayTunnelServer("tcp", "tunnel", tls, s -> s.put("network", "raw"),
                    OurSide.raw("tcp", Map.of()));
            l.add(tls ? xrayRawOut.knownBug(XRAY_TUNNEL_TLS_SPLICE) : xrayRawOut);
            l.add(xrayTunnelClient("tcp", "tunnel", tls, s -> s.put("network", "raw"), OurSide.raw("tcp", Map.of())));
            xrayTunnel(l, "ws", "tunnel", tls, ws("/ws"), OurSide.raw("ws", Map.of("path", "/ws")),
                    ws("/ws"), OurSide.raw("ws", Map.of("path", "/ws")));
            // Xray's ?ed=2048: early data base64url in Sec-WebSocket-Protocol. Xray's freedom outbound over ws with
            // ed crashes the whole process, so the inbound cell runs in a role of its own.
            l.add(xrayTunnelServer("ws", "tunnel-ed2048", tls, ws("/ws"),
                    OurSide.raw("ws", Map.of("path", "/ws?ed=2048"))));
            l.add(xrayTunnelClient("ws", "tunnel-ed2048", tls, ws("/ws?ed=2048"), OurSide.raw("ws", Map.of("path", "/ws")))
                    .isolated().knownBug(XRAY_FREEDOM_WS_ED_PANIC));
            xrayTunnel(l, "httpupgrade", "tunnel", tls, hu("/hu"), OurSide.raw("httpupgrade", Map.of("path", "/hu")),
                    hu("/hu"), OurSide.raw("httpupgrade", Map.of("path", "/hu")));
            // Xray's HTTPUpgrade ?ed=2048: the first payload pipelined right behind the request head
            CellDef huEdOut = xrayTunnelServer("httpupgrade", "tunnel-ed2048", tls, hu("/hu"),
                    OurSide.raw("httpupgrade", Map.of("path", "/hu?ed=2048")));
            l.add(tls ? huEdOut : huEdOut.knownBug(XRAY_HU_ED_PLAIN_LOSS));
            l.add(xrayTunnelClient("httpupgrade", "tunnel-ed2048", tls, hu("/hu?ed=2048"),
                    OurSide.raw("httpupgrade", Map.of("path", "/hu"))));
            // gost gRPC tunnel: TLS by default, grpcInsecure for cleartext (peer-gost.md §7)
            gostForward(l, "grpc", tls, "grpc", tls ? Map.of() : Map.of("grpcInsecure", true),
                    OurSide.raw("grpc", Map.of("flavour", "gost")));
            // Xray gun: Tun, TunMulti and the custom path syntax, raw bytes (peer-xray.md §4)
            xrayTunnel(l, "grpc", "tunnel-tun", tls, grpc("gunsvc", false),
                    OurSide.raw("grpc", Map.of("serviceName", "gunsvc")),
                    grpc("gunsvc", false), OurSide.raw("grpc", Map.of("serviceName", "gunsvc")));
            xrayTunnel(l, "grpc", "tunnel-tunmulti", tls, grpc("gunsvc", false),
                    OurSide.raw("grpc", Map.of("serviceName", "gunsvc", "multi", "true")),
                    grpc("gunsvc", true), OurSide.raw("grpc", Map.of("serviceName", "gunsvc")));
            xrayTunnel(l, "grpc", "tunnel-custom-path", tls, grpc("/tw/gun/tun|multi", false),
                    OurSide.raw("grpc", Map.of("serviceName", "/tw/gun/tun")),
                    grpc("/tw/gun/tun", false), OurSide.raw("grpc", Map.of("serviceName", "/tw/gun/tun|multi")));

            // gost proxy handlers/connectors with authentication (peer-gost.md §2, §9, §11.5)
            String raw = tls ? "tls" : "tcp";
            gostProxy(l, "tcp", "http-connect-auth", tls, raw, Map.of(), "http", Map.of(), http("tcp", Map.of()));
            gostProxy(l, "tcp", "socks5-auth", tls, raw, Map.of(), "socks5", Map.of("notls", true),
                    socks5("tcp", Map.of()));
            gostProxy(l, "tcp", "relay-auth", tls, raw, Map.of(), "relay", Map.of(), relay("tcp", Map.of()));
            // gost HTTP/2 proxy (CONNECT on HTTP/2 streams), TLS only (peer-gost.md §3)
            int h2proxy = l.size();
            gostProxy(l, "http2", "http2-proxy-auth", tls, "http2", Map.of(), "http2", Map.of(),
                    new ProxySide("http2", Map.of(), "http2", () -> new Http2ProxyConnector(USER, PASS),
                            () -> new Http2ProxyHandler(Authenticator.user(USER, PASS), null)));
            if (!tls) {
                for (int i = h2proxy; i < l.size(); i++) {
                    l.set(i, l.get(i).unsupported("gost's http2 proxy listener and dialer are TLS-only "
                            + "(x/listener/http2, x/dialer/http2; peer-gost.md §3.1)"));
                }
            }

            // VLESS over each transport (peer-singbox.md §6-7, peer-xray.md §7.1, §8)
            singboxVless(l, "singbox", "tcp", "vless", tls, t -> { }, vless("tcp", Map.of()), t -> { },
                    vless("tcp", Map.of()));
            singboxVless(l, "singbox", "ws", "vless", tls, sbWs("/ws"), vless("ws", Map.of("path", "/ws")),
                    sbWs("/ws"), vless("ws", Map.of("path", "/ws")));
            // sing-box's path dialect: early data base64url appended to the path
            singboxVless(l, "singbox", "ws", "vless-ed-path", tls, sbWs("/ws").andThen(t -> t.put("max_early_data", 2048)),
                    vless("ws", Map.of("path", "/ws", "maxEarlyData", "2048")),
                    sbWs("/ws").andThen(t -> t.put("max_early_data", 2048)), vless("ws", Map.of("path", "/ws")));
            // header dialect: early data in Sec-WebSocket-Protocol (what Xray and v2fly understand)
            singboxVless(l, "singbox", "ws", "vless-ed-header", tls, sbWs("/ws").andThen(SB_ED_HEADER),
                    vless("ws", Map.of("path", "/ws", "maxEarlyData", "2048",
                            "earlyDataHeader", "Sec-WebSocket-Protocol")),
                    sbWs("/ws").andThen(SB_ED_HEADER), vless("ws", Map.of("path", "/ws")));
            singboxVless(l, "singbox", "httpupgrade", "vless", tls, sbHu("/hu"),
                    vless("httpupgrade", Map.of("path", "/hu")), sbHu("/hu"),
                    vless("httpupgrade", Map.of("path", "/hu")));
            l.set(l.size() - 2, l.get(l.size() - 2).knownBug(SINGBOX_HU_HIJACK_LOSS)); // the outbound cell
            // V2Ray HTTP: HTTP/1.1 in cleartext, h2 over TLS (peer-singbox.md §2)
            singboxVless(l, "singbox", "http", tls ? "vless-h2" : "vless-h1", tls, sbHttp("/h"),
                    vless("v2rayhttp", Map.of("path", "/h")), sbHttp("/h"), vless("v2rayhttp", Map.of("path", "/h")));
            // gun: lite (default build) and grpc-go (with_grpc)
            for (String peer : List.of("singbox", "singbox-grpc")) {
                singboxVless(l, peer, "grpc", "vless", tls, sbGrpc("TunService"),
                        vless("grpc", Map.of("serviceName", "TunService")), sbGrpc("TunService"),
                        vless("grpc", Map.of("serviceName", "TunService")));
            }

            xrayVless(l, "tcp", "vless", tls, s -> s.put("network", "raw"), vless("tcp", Map.of()),
                    s -> s.put("network", "raw"), vless("tcp", Map.of()));
            xrayVless(l, "ws", "vless", tls, ws("/ws"), vless("ws", Map.of("path", "/ws")), ws("/ws"),
                    vless("ws", Map.of("path", "/ws")));
            xrayVless(l, "ws", "vless-ed2048", tls, ws("/ws"), vless("ws", Map.of("path", "/ws?ed=2048")),
                    ws("/ws?ed=2048"), vless("ws", Map.of("path", "/ws")));
            xrayVless(l, "httpupgrade", "vless", tls, hu("/hu"), vless("httpupgrade", Map.of("path", "/hu")),
                    hu("/hu"), vless("httpupgrade", Map.of("path", "/hu")));
            xrayVless(l, "httpupgrade", "vless-ed2048", tls, hu("/hu"),
                    vless("httpupgrade", Map.of("path", "/hu?ed=2048")), hu("/hu?ed=2048"),
                    vless("httpupgrade", Map.of("path", "/hu")));
            if (!tls) {
                CellDef edIn = l.remove(l.size() - 1);
                l.add(edIn.knownBug(XRAY_HU_CLIENT_ED_COALESCED_101));
            }
            if (!tls) {
                // the VLESS request rides behind the head too: same loss as the raw tunnel cell
                int last = l.size() - 2;
                l.set(last, l.get(last).knownBug(XRAY_HU_ED_PLAIN_LOSS));
            }
            xrayVless(l, "grpc", "vless-tun", tls, grpc("gunsvc", false),
                    vless("grpc", Map.of("serviceName", "gunsvc")), grpc("gunsvc", false),
                    vless("grpc", Map.of("serviceName", "gunsvc")));
            xrayVless(l, "grpc", "vless-tunmulti", tls, grpc("gunsvc", false),
                    vless("grpc", Map.of("serviceName", "gunsvc", "multi", "true")), grpc("gunsvc", true),
                    vless("grpc", Map.of("serviceName", "gunsvc")));
            // v2fly v2ray 4.34 (optional peer): ws with and without early data, h2 (peer-singbox.md §8)
            v2flyVless(l, "ws", "vless", tls, v2Ws("/ws", false), vless("ws", Map.of("path", "/ws")),
                    v2Ws("/ws", false), vless("ws", Map.of("path", "/ws")));
            int before = l.size();
            v2flyVless(l, "ws", "vless-ed-path", tls, v2Ws("/ws", true),
                    vless("ws", Map.of("path", "/ws", "maxEarlyData", "2048")),
                    v2Ws("/ws", true), vless("ws", Map.of("path", "/ws")));
            for (int i = before; i < l.size(); i++) {
                l.set(i, l.get(i).unsupported(V2FLY_434_NO_WS_EARLY_DATA));
            }
            if (tls) {
                // v2fly checks the request's host against httpSettings.host (localhost on both sides here)
                v2flyVless(l, "http", "vless-h2", true, v2H2("/h"),
                        vless("v2rayhttp", Map.of("path", "/h", "host", "localhost")),
                        v2H2("/h"), vless("v2rayhttp", Map.of("path", "/h")));
            }
            for (Direction d : Direction.values()) {
                l.add(new CellDef(new Cell("xray", "http", tls ? "vless-h2" : "vless-h1", d, tls), "xray-server",
                        (role, p) -> { }, null, null, XRAY_NO_HTTP, null));
            }
        }
        return l;
    }

    /** User and password of the authenticated gost proxy cells. */
    static final String USER = "tw-user";
    static final String PASS = "tw-pass";

    static OurSide http(String scheme, Map<String, String> params) {
        return new ProxySide(scheme, params, "http", () -> new HttpConnector(new HttpConnectorOptions(USER, PASS)),
                () -> new HttpHandler(HttpHandlerOptions.builder().authenticator(Authenticator.user(USER, PASS))
                        .build()));
    }

    static OurSide socks5(String scheme, Map<String, String> params) {
        return new ProxySide(scheme, params, "socks5",
                () -> new Socks5Connector(new Socks5ConnectorOptions(USER, PASS)),
                () -> new Socks5Handler(new Socks5HandlerOptions(Authenticator.user(USER, PASS))));
    }

    static OurSide relay(String scheme, Map<String, String> params) {
        return new ProxySide(scheme, params, "relay",
                () -> new RelayConnector(RelayConnectorOptions.builder().user(USER).password(PASS).build()),
                () -> new RelayHandler(RelayHandlerOptions.builder().authenticator(Authenticator.user(USER, PASS))
                        .build()));
    }

    /** The VLESS user of every VLESS cell. */
    static final String VLESS_ID = "27848739-7e62-4138-9fd3-098a63964b6b";

    /** VLESS over our transport {@code scheme}. */
    static OurSide vless(String scheme, Map<String, String> params) {
        return new ProxySide(scheme, params, "vless", () -> new VlessConnector(VLESS_ID),
                () -> new VlessHandler(VlessHandlerOptions.of(VLESS_ID)));
    }

    static final Consumer<ObjectNode> SB_ED_HEADER = t -> t.put("max_early_data", 2048)
            .put("early_data_header_name", "Sec-WebSocket-Protocol");

    static Consumer<ObjectNode> sbWs(String path) {
        return t -> t.put("type", "ws").put("path", path);
    }

    static Consumer<ObjectNode> sbHu(String path) {
        return t -> t.put("type", "httpupgrade").put("path", path);
    }

    static Consumer<ObjectNode> sbHttp(String path) {
        return t -> t.put("type", "http").put("path", path);
    }

    static Consumer<ObjectNode> sbGrpc(String service) {
        return t -> t.put("type", "grpc").put("service_name", service);
    }

    static Consumer<ObjectNode> grpc(String service, boolean multi) {
        return s -> {
            ObjectNode g = s.put("network", "grpc").putObject("grpcSettings").put("serviceName", service);
            if (multi) {
                g.put("multiMode", true);
            }
        };
    }

    static Consumer<ObjectNode> v2Ws(String path, boolean earlyData) {
        return s -> {
            ObjectNode w = s.put("network", "ws").putObject("wsSettings").put("path", path);
            if (earlyData) {
                w.put("maxEarlyData", 2048);
            }
        };
    }

    static Consumer<ObjectNode> v2H2(String path) {
        return s -> s.put("network", "http").putObject("httpSettings").put("path", path)
                .putArray("host").add("localhost");
    }

    static final String V2FLY_434_NO_WS_EARLY_DATA = "v2fly 4.34 has no WebSocket early data: its ws hub "
            + "compares the path exactly (transport/internet/websocket/hub.go:36 at v4.34.0) and its dialer sends none; "
            + "maxEarlyData arrived in v4.37.0 (v2fly/v2ray-core af641f321). Against 4.34 our path early data gets 404";

    static final String XRAY_NO_HTTP = "Xray removed the V2Ray HTTP (h2) transport in v24.12.15 (commit ae62a0fb "
            + "\"Transport: Remove HTTP\"); \"network\": \"http\" is a config error at v26.7.28 "
            + "(infra/conf/transport_internet.go:33), peer-xray.md §6";

    static Consumer<ObjectNode> ws(String path) {
        return s -> s.put("network", "ws").putObject("wsSettings").put("path", path);
    }

    static Consumer<ObjectNode> hu(String path) {
        return s -> s.put("network", "httpupgrade").putObject("httpupgradeSettings").put("path", path);
    }

    /** Both directions of a gost forward cell. */
    static void gostForward(List<CellDef> l, String transport, boolean tls, String type, Map<String, ?> md,
                            OurSide ours) {
        l.add(gostServer(transport, "forward", tls, type, md, ours));
        l.add(gostClient(transport, "forward", tls, type, md, ours));
    }

    /** Both directions of an Xray raw tunnel cell. */
    static void xrayTunnel(List<CellDef> l, String transport, String variant, boolean tls,
                           Consumer<ObjectNode> serverStream, OurSide oursOut,
                           Consumer<ObjectNode> clientStream, OurSide oursIn) {
        l.add(xrayTunnelServer(transport, variant, tls, serverStream, oursOut));
        l.add(xrayTunnelClient(transport, variant, tls, clientStream, oursIn));
    }

    // ---------------------------------------------------------------- gost

    /**
     * Outbound: our dialer → gost service {@code <type>} with the forward handler → echo target.
     * ({@code gost -L "<type>://127.0.0.1:P/ECHO?<md>"}.)
     */
    static CellDef gostServer(String transport, String variant, boolean tls, String type, Map<String, ?> md,
                              OurSide ours) {
        Cell cell = new Cell("gost", transport, variant, OUTBOUND, tls);
        return new CellDef(cell, "gost-server", (role, p) -> {
            ObjectNode svc = ((Role.Gost) role).services.addObject()
                    .put("name", cell.tag()).put("addr", local(p.peer()));
            svc.putObject("handler").put("type", "forward");
            ObjectNode listener = svc.putObject("listener").put("type", type);
            listener.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                listener.putObject("tls").put("certFile", pki(CERT)).put("keyFile", pki(KEY));
            }
            svc.putObject("forwarder").putArray("nodes").addObject()
                    .put("name", "echo").put("addr", local(p.echo().getPort()));
        }, ours, null, null, null);
    }

    /**
     * Inbound: gost tcp service (entry) → chain with the forward connector over dialer {@code <type>} → our listener
     * → echo target. ({@code gost -L tcp://127.0.0.1:E/ECHO -F "forward+<type>://127.0.0.1:OURS?<md>"}; the client
     * verifies our certificate against the test CA.)
     */
    static CellDef gostClient(String transport, String variant, boolean tls, String type, Map<String, ?> md,
                              OurSide ours) {
        Cell cell = new Cell("gost", transport, variant, INBOUND, tls);
        return new CellDef(cell, "gost-client", (role, p) -> {
            Role.Gost g = (Role.Gost) role;
            String chain = "chain-" + cell.tag();
            ObjectNode svc = g.services.addObject().put("name", cell.tag()).put("addr", local(p.peer()));
            svc.putObject("handler").put("type", "tcp").put("chain", chain);
            svc.putObject("listener").put("type", "tcp");
            svc.putObject("forwarder").putArray("nodes").addObject()
                    .put("name", "echo").put("addr", local(p.echo().getPort()));
            ObjectNode node = g.chains.addObject().put("name", chain).putArray("hops").addObject()
                    .put("name", "hop-" + cell.tag()).putArray("nodes").addObject()
                    .put("name", "node-" + cell.tag()).put("addr", local(p.ours()));
            node.putObject("connector").put("type", "forward");
            ObjectNode dialer = node.putObject("dialer").put("type", type);
            dialer.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                // verified against the test CA for the node's host, 127.0.0.1 (an IP SAN of the test certificate); a
                // serverName other than the dialed host breaks gost's grpc dialer (grpc-go: "ClientConn's authority
                // from transport creds ... and dial option ... don't match")
                dialer.putObject("tls").put("secure", true).put("caFile", pki(CA));
            }
        }, ours, Entry.TCP, null, null);
    }

    /**
     * Both directions of a gost proxy cell. Outbound: our connector over our dialer → gost service with handler
     * {@code handlerType} (user {@value #USER}) on listener {@code type} → the destination we ask for (the echo target).
     * Inbound: gost tcp service (entry, fixed target = echo) → chain node with connector {@code handlerType} (with
     * the credentials) over dialer {@code type} → our service with that handler → echo target.
     */
    static void gostProxy(List<CellDef> l, String transport, String variant, boolean tls, String type,
                          Map<String, ?> md, String handlerType, Map<String, ?> handlerMd, OurSide ours) {
        Cell out = new Cell("gost", transport, variant, OUTBOUND, tls);
        l.add(new CellDef(out, "gost-server", (role, p) -> {
            ObjectNode svc = ((Role.Gost) role).services.addObject().put("name", out.tag()).put("addr", local(p.peer()));
            ObjectNode h = svc.putObject("handler").put("type", handlerType);
            h.putObject("auth").put("username", USER).put("password", PASS);
            h.set("metadata", Role.JSON.valueToTree(handlerMd));
            ObjectNode listener = svc.putObject("listener").put("type", type);
            listener.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                listener.putObject("tls").put("certFile", pki(CERT)).put("keyFile", pki(KEY));
            }
        }, ours, null, null, null));
        Cell in = new Cell("gost", transport, variant, INBOUND, tls);
        l.add(new CellDef(in, "gost-client", (role, p) -> {
            Role.Gost g = (Role.Gost) role;
            String chain = "chain-" + in.tag();
            ObjectNode svc = g.services.addObject().put("name", in.tag()).put("addr", local(p.peer()));
            svc.putObject("handler").put("type", "tcp").put("chain", chain);
            svc.putObject("listener").put("type", "tcp");
            svc.putObject("forwarder").putArray("nodes").addObject()
                    .put("name", "echo").put("addr", local(p.echo().getPort()));
            ObjectNode node = g.chains.addObject().put("name", chain).putArray("hops").addObject()
                    .put("name", "hop-" + in.tag()).putArray("nodes").addObject()
                    .put("name", "node-" + in.tag()).put("addr", local(p.ours()));
            ObjectNode c = node.putObject("connector").put("type", handlerType);
            c.putObject("auth").put("username", USER).put("password", PASS);
            c.set("metadata", Role.JSON.valueToTree(handlerMd));
            ObjectNode dialer = node.putObject("dialer").put("type", type);
            dialer.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                // verified against the test CA for the node's host, 127.0.0.1 (an IP SAN of the test certificate); a
                // serverName other than the dialed host breaks gost's grpc dialer (grpc-go: "ClientConn's authority
                // from transport creds ... and dial option ... don't match")
                dialer.putObject("tls").put("secure", true).put("caFile", pki(CA));
            }
        }, ours, Entry.TCP, null, null));
    }

    // ---------------------------------------------------------------- sing-box

    /**
     * Both directions of a sing-box VLESS cell. Outbound: our VLESS client over our transport → sing-box
     * {@code vless} inbound with {@code transport} → direct → echo target. Inbound: sing-box {@code mixed} inbound
     * (SOCKS5 entry) → {@code vless} outbound with {@code transport} → our VLESS service → echo target. An empty
     * transport object means raw TCP.
     */
    static void singboxVless(List<CellDef> l, String peer, String transport, String variant, boolean tls,
                             Consumer<ObjectNode> serverTransport, OurSide oursOut,
                             Consumer<ObjectNode> clientTransport, OurSide oursIn) {
        Cell out = new Cell(peer, transport, variant, OUTBOUND, tls);
        l.add(new CellDef(out, peer + "-server", (role, p) -> {
            ObjectNode in = ((Role.Singbox) role).inbounds.addObject().put("type", "vless").put("tag", out.tag())
                    .put("listen", "127.0.0.1").put("listen_port", p.peer());
            in.putArray("users").addObject().put("name", "u").put("uuid", VLESS_ID);
            ObjectNode t = F.objectNode();
            serverTransport.accept(t);
            if (!t.isEmpty()) {
                in.set("transport", t);
            }
            if (tls) {
                in.putObject("tls").put("enabled", true).put("server_name", "localhost")
                        .put("certificate_path", pki(CERT)).put("key_path", pki(KEY));
            }
        }, oursOut, null, null, null));
        Cell inCell = new Cell(peer, transport, variant, INBOUND, tls);
        l.add(new CellDef(inCell, peer + "-client", (role, p) -> {
            Role.Singbox sb = (Role.Singbox) role;
            String in = "in-" + inCell.tag();
            String o = "out-" + inCell.tag();
            sb.inbounds.addObject().put("type", "mixed").put("tag", in).put("listen", "127.0.0.1")
                    .put("listen_port", p.peer());
            ObjectNode ob = sb.outbounds.addObject().put("type", "vless").put("tag", o).put("server", "127.0.0.1")
                    .put("server_port", p.ours()).put("uuid", VLESS_ID).put("packet_encoding", "");
            ObjectNode t = F.objectNode();
            clientTransport.accept(t);
            if (!t.isEmpty()) {
                ob.set("transport", t);
            }
            if (tls) {
                ob.putObject("tls").put("enabled", true).put("server_name", "localhost")
                        .put("certificate_path", pki(CA));
            }
            ObjectNode rule = sb.rules.addObject().put("action", "route").put("outbound", o);
            rule.putArray("inbound").add(in);
        }, oursIn, Entry.SOCKS5, null, null));
    }

    // ---------------------------------------------------------------- v2fly

    /**
     * Both directions of a v2fly VLESS cell (Xray-style config, {@code vnext} outbound form, TLS verified against
     * the test CA).
     */
    static void v2flyVless(List<CellDef> l, String transport, String variant, boolean tls,
                           Consumer<ObjectNode> serverStream, OurSide oursOut,
                           Consumer<ObjectNode> clientStream, OurSide oursIn) {
        Cell out = new Cell("v2ray", transport, variant, OUTBOUND, tls);
        l.add(new CellDef(out, "v2ray-server", (role, p) -> {
            ObjectNode in = ((Role.V2fly) role).inbounds.addObject().put("tag", out.tag()).put("listen", "127.0.0.1")
                    .put("port", p.peer()).put("protocol", "vless");
            ObjectNode st = in.putObject("settings").put("decryption", "none");
            st.putArray("clients").addObject().put("id", VLESS_ID);
            in.set("streamSettings", xrayStream(serverStream, tls, true));
        }, oursOut, null, null, null));
        Cell inCell = new Cell("v2ray", transport, variant, INBOUND, tls);
        l.add(new CellDef(inCell, "v2ray-client", (role, p) -> {
            Role.V2fly x = (Role.V2fly) role;
            String in = "in-" + inCell.tag();
            String o = "out-" + inCell.tag();
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.peer())
                    .put("protocol", "socks").putObject("settings").put("auth", "noauth").put("udp", false);
            ObjectNode ob = x.outbounds.addObject().put("tag", o).put("protocol", "vless");
            ob.putObject("settings").putArray("vnext").addObject().put("address", "127.0.0.1").put("port", p.ours())
                    .putArray("users").addObject().put("id", VLESS_ID).put("encryption", "none");
            ob.set("streamSettings", xrayStream(clientStream, tls, false));
            x.rules.addObject().put("type", "field").put("outboundTag", o).putArray("inboundTag").add(in);
        }, oursIn, Entry.SOCKS5, null, null));
    }

    // ---------------------------------------------------------------- Xray

    /**
     * Both directions of an Xray VLESS cell. Outbound: our VLESS client → Xray {@code vless} inbound → freedom (with
     * {@code finalRules} allowing 127/8) → echo target. Inbound: Xray {@code socks} inbound (entry) → {@code vless}
     * outbound → our VLESS service → echo target.
     */
    static void xrayVless(List<CellDef> l, String transport, String variant, boolean tls,
                          Consumer<ObjectNode> serverStream, OurSide oursOut,
                          Consumer<ObjectNode> clientStream, OurSide oursIn) {
        Cell out = new Cell("xray", transport, variant, OUTBOUND, tls);
        l.add(new CellDef(out, "xray-server", (role, p) -> {
            ObjectNode in = ((Role.Xray) role).inbounds.addObject().put("tag", out.tag()).put("listen", "127.0.0.1")
                    .put("port", p.peer()).put("protocol", "vless");
            ObjectNode st = in.putObject("settings").put("decryption", "none");
            st.putArray("clients").addObject().put("id", VLESS_ID);
            in.set("streamSettings", xrayStream(serverStream, tls, true));
        }, oursOut, null, null, null));
        Cell inCell = new Cell("xray", transport, variant, INBOUND, tls);
        l.add(new CellDef(inCell, "xray-client", (role, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "in-" + inCell.tag();
            String o = "out-" + inCell.tag();
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.peer())
                    .put("protocol", "socks").putObject("settings").put("auth", "noauth").put("udp", false);
            ObjectNode ob = x.outbounds.addObject().put("tag", o).put("protocol", "vless");
            ob.putObject("settings").put("address", "127.0.0.1").put("port", p.ours()).put("id", VLESS_ID)
                    .put("encryption", "none");
            ob.set("streamSettings", xrayStream(clientStream, tls, false));
            x.rules.addObject().put("type", "field").put("outboundTag", o).putArray("inboundTag").add(in);
        }, oursIn, Entry.SOCKS5, null, null));
    }


    /**
     * Outbound: our dialer → Xray {@code tunnel} inbound with the given streamSettings → echo target (raw bytes, no
     * proxy protocol).
     */
    static CellDef xrayTunnelServer(String transport, String variant, boolean tls, Consumer<ObjectNode> stream,
                                    OurSide ours) {
        Cell cell = new Cell("xray", transport, variant, OUTBOUND, tls);
        return new CellDef(cell, "xray-server", (role, p) -> {
            ObjectNode in = ((Role.Xray) role).inbounds.addObject()
                    .put("tag", cell.tag()).put("listen", "127.0.0.1").put("port", p.peer()).put("protocol", "tunnel");
            in.putObject("settings").put("address", "127.0.0.1").put("port", p.echo().getPort())
                    .put("network", "tcp");
            in.set("streamSettings", xrayStream(stream, tls, true));
        }, ours, null, null, null);
    }

    /**
     * Inbound: Xray {@code tunnel} inbound (entry) → {@code freedom} outbound redirected to our listener with the given
     * streamSettings (freedom dials through the configured transport, so the transport carries the raw bytes) → our
     * listener → echo target.
     */
    static CellDef xrayTunnelClient(String transport, String variant, boolean tls, Consumer<ObjectNode> stream,
                                    OurSide ours) {
        Cell cell = new Cell("xray", transport, variant, INBOUND, tls);
        return new CellDef(cell, "xray-client", (role, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "in-" + cell.tag();
            String out = "out-" + cell.tag();
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.peer())
                    .put("protocol", "tunnel").putObject("settings").put("address", "127.0.0.1")
                    .put("port", p.echo().getPort()).put("network", "tcp");
            ObjectNode o = x.outbounds.addObject().put("tag", out).put("protocol", "freedom");
            o.putObject("settings").put("redirect", local(p.ours()));
            o.set("streamSettings", xrayStream(stream, tls, false));
            x.rules.addObject().put("type", "field").put("outboundTag", out).putArray("inboundTag").add(in);
        }, ours, Entry.TCP, null, null);
    }

    /**
     * Xray streamSettings: the transport part from {@code stream}, plus TLS with the test PKI (server: the
     * certificate; client: {@code serverName localhost} verified against the test CA, Go TLS stack by default uTLS).
     */
    static ObjectNode xrayStream(Consumer<ObjectNode> stream, boolean tls, boolean server) {
        ObjectNode s = F.objectNode();
        stream.accept(s);
        s.put("security", tls ? "tls" : "none");
        if (tls) {
            ObjectNode t = s.putObject("tlsSettings");
            if (server) {
                t.putArray("certificates").addObject().put("certificateFile", pki(CERT)).put("keyFile", pki(KEY));
            } else {
                t.put("serverName", "localhost");
                t.putArray("certificates").addObject().put("usage", "verify").put("certificateFile", pki(CA));
            }
        }
        return s;
    }

    static Direction[] both() {
        return Direction.values();
    }
}
