package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Fixture;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.local;

/**
 * Maps a conformance case (its transport, role and neutral {@code options}) to a configuration of a reference peer,
 * or says why the peer cannot run it. Server role: the peer listens with the case's options and forwards every tunnel
 * (raw bytes) to the engine's application address; a proxy server connects to the destination in the request.
 * Client role: the peer accepts application connections on an entry port and opens one tunnel per connection to the
 * engine's fake server; a proxy client asks for the case's {@code destination} (fixed in the peer's config, so every
 * distinct destination is its own entry).
 *
 * <p>Cases whose mapping has the same {@link Mapping#key} share one inbound (one pair of ports); every peer runs as
 * one process/container with all its inbounds.
 */
final class PeerCases {

    /** The peers the conformance cases run against (names from {@code versions.properties}). */
    static final List<String> PEERS = List.of("singbox", "xray", "gost");

    private PeerCases() {
    }

    /** The name the fixtures use in {@code peerDeviations} for a peer of {@code versions.properties}. */
    static String fixtureName(String peer) {
        return peer.equals("singbox") ? "sing-box" : peer;
    }

    /**
     * How one case runs on one peer: the peer's ports are {@code listen} (server: the peer's listener; client: its
     * entry) and {@code target} (server: the engine's application address it forwards to; client: the engine's fake
     * server it dials).
     *
     * @param key       identical for cases that need the same peer inbound
     * @param configure adds the inbound (and outbound) to the peer's config
     * @param perCase   why the case needs a peer process of its own, started for the case after the engine's fake
     *                  server listens, or {@code null} (the inbound lives in the peer's shared process)
     */
    record Mapping(String key, BiConsumer<Role, Ports> configure, String perCase) {
    }

    /** Ports of one mapped inbound. */
    record Ports(int listen, int target) {
    }

    /** Either a mapping or the reason the peer cannot run the case. */
    record Result(Mapping mapping, String notApplicable) {
        static Result na(String reason) {
            return new Result(null, reason);
        }

        static Result of(String key, BiConsumer<Role, Ports> configure) {
            return new Result(new Mapping(key, configure, null), null);
        }

    }

    static Result map(Fixture f, String peer) {
        Result r = switch (peer) {
            case "gost" -> gost(f);
            case "xray" -> xray(f);
            case "singbox" -> singbox(f);
            default -> throw new IllegalArgumentException(peer);
        };
        String why = perCase(f);
        return r.mapping() == null || why == null ? r
                : new Result(new Mapping(r.mapping().key(), r.mapping().configure(), why), null);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static boolean server(Fixture f) {
        return f.role() == Fixture.Role.SERVER;
    }

    private static String opt(Fixture f, String name) {
        JsonNode n = f.options().get(name);
        return n == null || n.isNull() ? null : n.isTextual() ? n.asText() : n.toString();
    }

    private static Set<String> keys(Fixture f) {
        Set<String> s = new TreeSet<>();
        f.options().fieldNames().forEachRemaining(s::add);
        return s;
    }

    /** Options that the peer mapping does not know, or empty. */
    private static Set<String> unknown(Fixture f, Set<String> known) {
        Set<String> s = keys(f);
        s.removeAll(known);
        return s;
    }

    /**
     * The inbound key. Client cases never share an inbound: a peer client may still act on an earlier case (Xray
     * retries a rejected handshake up to 4 times, gost's PHT client goes on pulling) and would reach the next case's
     * fake server on a shared port; with an inbound of its own, such late attempts find nobody listening.
     */
    private static String key(String peer, Fixture f, String extra) {
        return peer + " " + f.transport() + " " + f.role().name().toLowerCase() + " " + f.options() + extra
                + (server(f) ? "" : " case " + f.id());
    }

    /** The {@code destination} of the case's {@code app_open} (proxy protocol client cases), or {@code null}. */
    static String destination(Fixture f) {
        for (JsonNode s : f.steps()) {
            if ("app_open".equals(s.path("op").asText()) && s.has("destination")) {
                return s.get("destination").asText();
            }
        }
        return null;
    }

    static String host(String hostPort) {
        return hostPort.substring(0, hostPort.lastIndexOf(':')).replace("[", "").replace("]", "");
    }

    static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    private static final Set<String> PROXIES = Set.of("vless", "socks5", "http_connect", "relay", "http2");

    /** A proxy-protocol client case whose destination the peer's config cannot name (placeholders). */
    private static String badDestination(Fixture f) {
        if (server(f) || !PROXIES.contains(f.transport())) {
            return null;
        }
        String d = destination(f);
        if (d == null) {
            return "the case opens no tunnel to a destination";
        }
        return d.contains("${") ? "the destination " + d + " is only known while the case runs" : null;
    }

    private static String first(JsonNode users, String field) {
        return users.path(0).path(field).asText();
    }

    // ------------------------------------------------------------------------------------------------ gost

    /** gost's JSON config: services (listener + handler), chains (node = connector + dialer). peer-gost.md §11. */
    static Result gost(Fixture f) {
        String t = f.transport();
        if (Set.of("vless", "httpupgrade", "http").contains(t)) {
            return Result.na("gost 3.2.6 has no " + switch (t) {
                case "vless" -> "VLESS";
                case "httpupgrade" -> "HTTPUpgrade transport";
                default -> "V2Ray HTTP transport";
            });
        }
        String bad = badDestination(f);
        if (bad != null) {
            return Result.na(bad);
        }
        return server(f) ? gostServer(f) : gostClient(f);
    }

    private static Result gostServer(Fixture f) {
        String t = f.transport();
        ObjectNode listenerMd = F.objectNode();
        ObjectNode serviceMd = F.objectNode();
        String listener;
        String handler = "forward";
        JsonNode users = f.options().get("users");
        ObjectNode handlerMd = F.objectNode();
        switch (t) {
            case "tcp" -> {
                Set<String> u = unknown(f, Set.of("listener"));
                if (!u.isEmpty()) {
                    return Result.na("gost: no equivalent of " + u);
                }
                listener = "tcp";
                if (f.options().path("listener").path("acceptProxyProtocol").asBoolean(false)) {
                    // service metadata proxyProtocol; as a string: gost 3.2.6 (x v0.8.1) ignores a JSON number here (checked
                    // by hand: {"proxyProtocol": 1} leaves the header to the application, "1" strips it)
                    serviceMd.put("proxyProtocol", "1");
                }
            }
            case "ws" -> {
                Set<String> u = unknown(f, Set.of("path"));
                if (!u.isEmpty()) {
                    return Result.na("gost's ws listener has no " + u + " option (x/listener/ws/metadata.go: path, "
                            + "header, buffer sizes only; no early data, no host check, no frame limit)");
                }
                listener = "ws";
                listenerMd.put("path", opt(f, "path") == null ? "/" : opt(f, "path"));
            }
            case "pht" -> {
                Set<String> u = unknown(f, Set.of("authorizePath", "pushPath", "pullPath"));
                if (!u.isEmpty()) {
                    return Result.na("gost's pht listener has no " + u + " option (the pull idle is fixed)");
                }
                listener = "pht";
                for (String k : List.of("authorizePath", "pushPath", "pullPath")) {
                    if (opt(f, k) != null) {
                        listenerMd.put(k, opt(f, k));
                    }
                }
            }
            case "grpc" -> {
                String svc = opt(f, "serviceName");
                if (svc == null || svc.isEmpty()) {
                    return Result.na("gost's grpc listener has no default-service-name mode (its path is set "
                            + "explicitly here; gost's own default is /GostTunel/Tunnel)");
                }
                listener = "grpc";
                // a name starting with '/' is a full method path (Xray's custom path syntax, as recorded from gost)
                listenerMd.put("grpcInsecure", true).put("path", svc.startsWith("/") ? svc : "/" + svc + "/Tun");
            }
            case "h2tunnel" -> {
                listener = "h2c";
                if (opt(f, "path") != null) {
                    listenerMd.put("path", opt(f, "path"));
                }
            }
            case "http2" -> {
                Set<String> u = unknown(f, Set.of("users", "listener"));
                if (!u.isEmpty()) {
                    return Result.na("gost: no equivalent of " + u);
                }
                // gost's HTTP/2 proxy: TLS listener (the test PKI's certificate; the engine accepts any) + handler
                listener = "http2";
                handler = "http2";
            }
            case "relay", "socks5", "http_connect" -> {
                Set<String> u = unknown(f, t.equals("relay") ? Set.of("users", "nodelay") : Set.of("users"));
                if (!u.isEmpty()) {
                    return Result.na("gost: no equivalent of " + u);
                }
                listener = "tcp";
                handler = t.equals("http_connect") ? "http" : t;
                if (f.options().path("nodelay").asBoolean(false)) {
                    handlerMd.put("nodelay", true);
                }
                if (t.equals("socks5")) {
                    handlerMd.put("notls", true);
                }
            }
            default -> {
                return Result.na("gost has no " + t + " server");
            }
        }
        String l = listener;
        String h = handler;
        boolean forward = h.equals("forward");
        return Result.of(key("gost", f, ""), (role, p) -> {
            Role.Gost g = (Role.Gost) role;
            String name = "conf-" + p.listen();
            ObjectNode svc = g.services.addObject().put("name", name).put("addr", local(p.listen()));
            if (!serviceMd.isEmpty()) {
                svc.set("metadata", serviceMd);
            }
            ObjectNode hd = svc.putObject("handler").put("type", h);
            if (users != null && users.size() > 0) {
                hd.putObject("auth").put("username", first(users, "user")).put("password", first(users, "password"));
            }
            if (!handlerMd.isEmpty()) {
                hd.set("metadata", handlerMd);
            }
            ObjectNode ls = svc.putObject("listener").put("type", l);
            if (!listenerMd.isEmpty()) {
                ls.set("metadata", listenerMd);
            }
            if (l.equals("http2")) {
                ls.putObject("tls").put("certFile", Role.pki(Role.CERT)).put("keyFile", Role.pki(Role.KEY));
            }
            if (forward) {
                svc.putObject("forwarder").putArray("nodes").addObject().put("name", "app")
                        .put("addr", local(p.target()));
            }
        });
    }

    private static Result gostClient(Fixture f) {
        String t = f.transport();
        String dialer;
        String connector = "forward";
        ObjectNode dialerMd = F.objectNode();
        ObjectNode connectorMd = F.objectNode();
        ObjectNode hopMd = F.objectNode();
        String user = opt(f, "user");
        String password = opt(f, "password");
        switch (t) {
            case "tcp" -> {
                Set<String> u = unknown(f, Set.of("dialer"));
                if (!u.isEmpty()) {
                    return Result.na("gost: no equivalent of " + u);
                }
                dialer = "tcp";
                String pp = f.options().path("dialer").path("proxyProtocol").asText("");
                if (!pp.isEmpty()) {
                    hopMd.put("proxyProtocol", pp.equals("v2") ? "2" : "1"); // hop metadata, a string (see above)
                }
            }
            case "ws" -> {
                Set<String> u = unknown(f, Set.of("path", "host", "headers"));
                if (!u.isEmpty()) {
                    return Result.na("gost's ws dialer has no " + u + " option (no early data)");
                }
                if (opt(f, "path") != null && opt(f, "path").contains("?ed=")) {
                    return Result.na("gost's ws dialer has no early data (?ed= is Xray's)");
                }
                dialer = "ws";
                dialerMd.put("path", opt(f, "path") == null ? "/" : opt(f, "path"));
                if (opt(f, "host") != null) {
                    dialerMd.put("host", opt(f, "host"));
                }
                if (f.options().has("headers")) {
                    dialerMd.set("header", f.options().get("headers"));
                }
            }
            case "pht" -> {
                dialer = "pht";
                for (String k : List.of("authorizePath", "pushPath", "pullPath")) {
                    if (opt(f, k) != null) {
                        dialerMd.put(k, opt(f, k));
                    }
                }
            }
            case "grpc" -> {
                if (f.options().path("multiMode").asBoolean(false)) {
                    return Result.na("gost's grpc dialer has no multi mode (TunMulti is Xray's)");
                }
                String svc = opt(f, "serviceName");
                if (svc == null || (svc.contains("/") && !svc.startsWith("/"))) {
                    return Result.na("gost's grpc dialer takes a path, not a service name to escape");
                }
                dialer = "grpc";
                dialerMd.put("grpcInsecure", true).put("path", svc.startsWith("/") ? svc : "/" + svc + "/Tun");
            }
            case "h2tunnel" -> {
                if (opt(f, "host") != null) {
                    return Result.na("gost's h2c dialer dials its host metadata (a DNS lookup of it) instead of only "
                            + "sending it as :authority (x/dialer/http2/h2)");
                }
                dialer = "h2c";
                if (opt(f, "path") != null) {
                    dialerMd.put("path", opt(f, "path"));
                }
            }
            case "http2" -> {
                // dialer http2 = HTTP/2 over TLS without verification (gost's default, secure=false); its empty
                // reachability probe (dialer/http2/dialer.go:75-86) is skipped by the engine
                dialer = "http2";
                connector = "http2";
            }
            case "socks5", "http_connect", "relay" -> {
                dialer = "tcp";
                connector = t.equals("http_connect") ? "http" : t;
                if (f.options().path("nodelay").asBoolean(false)) {
                    connectorMd.put("nodelay", true);
                }
                if (t.equals("socks5")) {
                    connectorMd.put("notls", true);
                }
            }
            default -> {
                return Result.na("gost has no " + t + " client");
            }
        }
        String dest = PROXIES.contains(t) ? destination(f) : "127.0.0.1:9";
        String d = dialer;
        String c = connector;
        return Result.of(key("gost", f, " -> " + dest), (role, p) -> {
            Role.Gost g = (Role.Gost) role;
            String name = "conf-" + p.listen();
            ObjectNode svc = g.services.addObject().put("name", name).put("addr", local(p.listen()));
            svc.putObject("handler").put("type", "tcp").put("chain", "chain-" + name);
            svc.putObject("listener").put("type", "tcp");
            svc.putObject("forwarder").putArray("nodes").addObject().put("name", "dest").put("addr", dest);
            ObjectNode hop = g.chains.addObject().put("name", "chain-" + name).putArray("hops").addObject()
                    .put("name", "hop-" + name);
            if (!hopMd.isEmpty()) {
                hop.set("metadata", hopMd);
            }
            ObjectNode node = hop.putArray("nodes").addObject().put("name", "node-" + name)
                    .put("addr", local(p.target()));
            ObjectNode cn = node.putObject("connector").put("type", c);
            if (user != null) {
                cn.putObject("auth").put("username", user).put("password", password == null ? "" : password);
            }
            if (!connectorMd.isEmpty()) {
                cn.set("metadata", connectorMd);
            }
            ObjectNode dl = node.putObject("dialer").put("type", d);
            if (!dialerMd.isEmpty()) {
                dl.set("metadata", dialerMd);
            }
        });
    }

    // ------------------------------------------------------------------------------------------------ Xray

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


    /**
     * Why a client case needs a peer process of its own: gRPC and h2c clients dial their pooled connection when the
     * peer starts and back off after a refused or closed connection (an RPC then fails fast), so the peer must start
     * after the engine's fake server listens, once per case; and an Xray HTTPUpgrade client crashes the whole process
     * on bytes that arrive with the 101 ({@link #XRAY_HU_PANIC_CASE}); gost's PHT client keeps pulling after its
     * tunnel ended, which would reach the next case's fake server.
     */
    static String perCase(Fixture f) {
        if (server(f)) {
            return null;
        }
        if (Set.of("grpc", "h2tunnel").contains(f.transport())) {
            return "pooled HTTP/2 client: started after the fake server listens";
        }
        if (f.transport().equals("pht")) {
            // gost's PHT client goes on pulling (same token) after the case's tunnel ended
            return "PHT client: its pull loop outlives the case";
        }
        return f.id().equals(XRAY_HU_PANIC_CASE) ? "crashes Xray's process" : null;
    }

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

    // ------------------------------------------------------------------------------------------------ sing-box

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
