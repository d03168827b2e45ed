package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Fixture;
import dev.tunnelwire.interop.PeerCases.Result;

import java.util.List;
import java.util.Set;

import static dev.tunnelwire.interop.PeerCases.PROXIES;
import static dev.tunnelwire.interop.PeerCases.badDestination;
import static dev.tunnelwire.interop.PeerCases.destination;
import static dev.tunnelwire.interop.PeerCases.first;
import static dev.tunnelwire.interop.PeerCases.key;
import static dev.tunnelwire.interop.PeerCases.opt;
import static dev.tunnelwire.interop.PeerCases.server;
import static dev.tunnelwire.interop.PeerCases.unknown;
import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.local;

/** The conformance cases mapped onto gost 3.2.6 (JSON config: services, chains; peer-gost.md section 11). */
final class GostCases {

    private GostCases() {
    }

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
}
