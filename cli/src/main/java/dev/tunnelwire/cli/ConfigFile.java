package dev.tunnelwire.cli;

import dev.tunnelwire.cli.ConfigTree.Arr;
import dev.tunnelwire.cli.ConfigTree.ConfigException;
import dev.tunnelwire.cli.ConfigTree.Obj;
import dev.tunnelwire.cli.ConfigTree.Scalar;
import dev.tunnelwire.cli.ConfigTree.Value;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Protocols;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * gost's YAML/JSON configuration ({@code services}, {@code chains}, {@code hops}, {@code nodes}, {@code handler},
 * {@code listener}, {@code connector}, {@code dialer}, {@code forwarder}, {@code metadata}, {@code auth},
 * {@code tls}), read strictly: an unknown field, a value of the wrong type or an option the transport rejects is an
 * error naming the field's path and its {@code line:column}.
 *
 * <p>A service's {@code listener} and a node's {@code dialer} take their transport in one of three styles, never
 * mixed:
 * <ul>
 *   <li>gost: {@code type}, {@code metadata} (maps such as {@code header: {X-A: b}} become {@code header.X-A}) and
 *       gost's {@code tls} ({@code certFile}, {@code keyFile}, {@code caFile}; dialer {@code secure},
 *       {@code serverName});</li>
 *   <li>sing-box: {@code transport} (its {@code type} chooses the transport) and, beside it, sing-box's {@code tls}
 *       (inbound fields on a listener, outbound fields on a dialer); see {@link PeerTransports};</li>
 *   <li>Xray: {@code streamSettings} ({@code network}, {@code security}, {@code tlsSettings},
 *       {@code wsSettings}, {@code httpupgradeSettings}, {@code grpcSettings}).</li>
 * </ul>
 * The handler, connector, auth and forwarder stay gost's in every style.
 */
final class ConfigFile {

    private ConfigFile() {
    }

    /**
     * Reads a file (JSON when its name ends in {@code .json}, else YAML) or an inline JSON document starting with
     * <code>{</code>.
     */
    static Specs.Config load(String source, Schemes schemes) throws IOException {
        Obj root;
        if (source.trim().startsWith("{")) {
            root = ConfigTree.read(new StringReader(source), true, "<inline>");
        } else {
            Path file = Path.of(source);
            try (Reader in = Files.newBufferedReader(file)) {
                root = ConfigTree.read(in, source.toLowerCase(Locale.ROOT).endsWith(".json"), source);
            }
        }
        return convert(root, schemes);
    }

    static Specs.Config convert(Obj root, Schemes schemes) {
        CmdLine cmd = new CmdLine(schemes);
        Arr chainsArr = root.arr("chains");
        Arr servicesArr = root.arr("services");
        Specs.GlobalTls globalTls = globalTls(root.obj("tls"));
        root.end();
        List<Specs.Chain> chains = new ArrayList<>();
        for (Obj c : objects(chainsArr)) {
            String chainName = required(c, "name");
            Arr hopsArr = c.arr("hops");
            c.end();
            List<Specs.Node> hops = new ArrayList<>();
            for (Obj h : objects(hopsArr)) {
                String hopName = h.text("name");
                Arr nodes = h.arr("nodes");
                h.end();
                List<Obj> ns = objects(nodes);
                if (ns.size() != 1) {
                    throw (nodes == null ? h : nodes).error("exactly one node per hop is supported, found "
                            + ns.size());
                }
                hops.add(node(cmd, schemes, ns.get(0), hopName));
            }
            chains.add(new Specs.Chain(chainName, hops));
        }
        List<Specs.Service> services = new ArrayList<>();
        for (Obj s : objects(servicesArr)) {
            services.add(service(cmd, schemes, s));
        }
        return new Specs.Config(services, chains, globalTls);
    }

    /** gost's top-level {@code tls} ({@code x/config} {@code TLSConfig}). */
    private static Specs.GlobalTls globalTls(Obj t) {
        if (t == null) {
            return null;
        }
        String validity = t.text("validity");
        java.time.Duration v = null;
        if (validity != null) {
            v = PeerTransports.parseGoDuration(validity);
            if (v == null || v.isNegative() || v.isZero()) {
                throw t.get("validity").error("invalid duration '" + validity + "' (Go syntax, e.g. \"8760h\")");
            }
        }
        Specs.GlobalTls g = new Specs.GlobalTls(t.text("certFile"), t.text("keyFile"), t.text("caFile"),
                t.text("commonName"), t.text("organization"), v);
        if ((g.certFile() == null) != (g.keyFile() == null)) {
            throw t.error("certFile and keyFile must be given together");
        }
        t.end();
        return g;
    }

    /** gost's {@code tls.options} of a listener: {@code alpn}, and TLS versions within what we negotiate. */
    private static List<String> tlsOptions(Obj o) {
        if (o == null) {
            return List.of();
        }
        List<String> alpn = o.strings("alpn");
        String min = o.text("minVersion");
        if (min != null && !min.isEmpty() && !min.equals("VersionTLS12")) {
            throw o.get("minVersion").error("not supported by tunnelwire: only VersionTLS12 (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
        String max = o.text("maxVersion");
        if (max != null && !max.isEmpty() && !max.equals("VersionTLS13")) {
            throw o.get("maxVersion").error("not supported by tunnelwire: only VersionTLS13 (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
        o.unsupported("cipherSuites", "cipher suites are the JDK's defaults");
        o.end();
        return alpn == null ? List.of() : alpn;
    }

    private static Specs.Service service(CmdLine cmd, Schemes schemes, Obj s) {
        String name = required(s, "name");
        String addr = required(s, "addr");
        Obj handler = s.obj("handler");
        Obj listener = s.obj("listener");
        Obj forwarder = s.obj("forwarder");
        Obj serviceMd = s.obj("metadata");
        if (serviceMd != null && !serviceMd.keys().isEmpty()) {
            String k = serviceMd.keys().iterator().next();
            serviceMd.accept(k);
            throw serviceMd.fields.get(k).keyError("not supported by tunnelwire: service metadata (put options in "
                    + "the handler's or listener's metadata)");
        }
        s.end();
        String handlerType = "auto";
        String chain = null;
        Map<String, String> q = new LinkedHashMap<>();
        String userInfo = "";
        if (handler != null) {
            handlerType = handler.text("type") == null ? "auto" : handler.text("type");
            chain = handler.text("chain");
            userInfo = auth(handler.obj("auth"));
            metadata(handler.obj("metadata"), "handler.", q);
            handler.end();
        }
        String listenerType = "tcp";
        List<String> listenerAlpn = List.of();
        Specs.Peer peer = null;
        if (listener != null) {
            Obj transport = listener.obj("transport");
            Obj stream = listener.obj("streamSettings");
            Value type = listener.get("type");
            Obj md = listener.obj("metadata");
            Obj tls = listener.obj("tls");
            noMix(listener, transport, stream, type, md, tls);
            if (stream != null) {
                peer = XrayStreamSettings.xrayListener(stream);
            } else if (transport != null) {
                peer = SingBoxTransports.singBoxListener(transport, tls);
            } else {
                listenerType = type == null ? "tcp" : listener.text("type");
                metadata(md, "listener.", q);
                if (tls != null && !Schemes.tls(listenerType, "true".equalsIgnoreCase(q.get("grpcInsecure")))) {
                    throw tls.keyError("gost's tls on the cleartext listener type '" + listenerType + "' would have"
                            + " no effect (use its TLS form, e.g. wss or tls)");
                }
                if (tls != null) {
                    put(q, "cert", tls.text("certFile"));
                    put(q, "key", tls.text("keyFile"));
                    put(q, "ca", tls.text("caFile"));
                    listenerAlpn = tlsOptions(tls.obj("options"));
                    tls.end();
                }
            }
            listener.end();
        }
        StringBuilder u = new StringBuilder(handlerType).append('+').append(listenerType).append("://")
                .append(userInfo).append(addr);
        if (forwarder != null) {
            Arr nodes = forwarder.arr("nodes");
            forwarder.end();
            List<String> t = new ArrayList<>();
            for (Obj n : objects(nodes)) {
                n.text("name");
                t.add(required(n, "addr"));
                n.end();
            }
            if (!t.isEmpty()) {
                u.append('/').append(String.join(",", t));
            }
        }
        u.append(query(q));
        String c = chain;
        Specs.Service svc = at(s, () -> cmd.service(name, GostUrl.parse(u.toString()), c));
        at(handler == null ? s : handler, () -> Protocols.handler(svc.handler(), svc.users(),
                svc.targets().isEmpty() ? null : Destination.parse(svc.targets().get(0)), svc.handlerParams()));
        if (peer != null) {
            return svc.withPeer(peer);
        }
        at(listener == null ? s : listener, () -> schemes.parse(svc.transport(), svc.listenerParams()));
        if (!listenerAlpn.isEmpty()) {
            if (svc.tls() == null) {
                throw listener.obj("tls").error("TLS options on the cleartext listener '" + svc.transport() + "'");
            }
            Specs.ServerTls t = svc.tls();
            return new Specs.Service(svc.name(), svc.host(), svc.port(), svc.handler(), svc.transport(),
                    new Specs.ServerTls(t.certFile(), t.keyFile(), t.caFile(), listenerAlpn), svc.users(),
                    svc.targets(), svc.handlerParams(), svc.listenerParams(), svc.chain(), null);
        }
        return svc;
    }

    private static Specs.Node node(CmdLine cmd, Schemes schemes, Obj n, String hopName) {
        String nodeName = n.text("name");
        String addr = required(n, "addr");
        Obj connector = n.obj("connector");
        Obj dialer = n.obj("dialer");
        n.end();
        String connectorType = "http";
        String userInfo = "";
        Map<String, String> q = new LinkedHashMap<>();
        if (connector != null) {
            connectorType = connector.text("type") == null ? "http" : connector.text("type");
            userInfo = auth(connector.obj("auth"));
            metadata(connector.obj("metadata"), "connector.", q);
            connector.end();
        }
        String dialerType = "tcp";
        Obj transport = null;
        Obj stream = null;
        Obj peerTls = null;
        if (dialer != null) {
            transport = dialer.obj("transport");
            stream = dialer.obj("streamSettings");
            Value type = dialer.get("type");
            Obj md = dialer.obj("metadata");
            Obj tls = dialer.obj("tls");
            noMix(dialer, transport, stream, type, md, tls);
            if (transport != null) {
                peerTls = tls;
            } else if (stream == null) {
                dialerType = type == null ? "tcp" : dialer.text("type");
                metadata(md, "dialer.", q);
                if (tls != null && !Schemes.tls(dialerType, "true".equalsIgnoreCase(q.get("grpcInsecure")))) {
                    throw tls.keyError("gost's tls on the cleartext dialer type '" + dialerType + "' would have"
                            + " no effect (use its TLS form, e.g. wss or tls)");
                }
                if (tls != null) {
                    Boolean secure = tls.bool("secure");
                    put(q, "secure", secure == null ? null : secure.toString());
                    put(q, "serverName", tls.text("serverName"));
                    put(q, "ca", tls.text("caFile"));
                    put(q, "cert", tls.text("certFile"));
                    put(q, "key", tls.text("keyFile"));
                    tls.end();
                }
            }
            dialer.end();
        }
        String url = connectorType + "+" + dialerType + "://" + userInfo + addr + query(q);
        Specs.Node node = at(n, () -> cmd.node(nodeName == null ? hopName : nodeName, GostUrl.parse(url)));
        at(connector == null ? n : connector, () -> Protocols.connector(node.connector(), node.user(),
                node.password(), node.connectorParams()));
        if (stream != null) {
            return node.withPeer(XrayStreamSettings.xrayDialer(stream, node.host()));
        }
        if (transport != null) {
            return node.withPeer(SingBoxTransports.singBoxDialer(transport, peerTls, node.host(), node.port()));
        }
        at(dialer == null ? n : dialer, () -> schemes.parse(node.transport(), node.dialerParams()));
        return node;
    }

    /** One style per listener/dialer: gost ({@code type}, {@code metadata}, {@code tls}), sing-box or Xray. */
    private static void noMix(Obj o, Obj transport, Obj stream, Value type, Obj md, Obj tls) {
        if (transport != null && stream != null) {
            throw stream.keyError("mixes Xray's streamSettings with sing-box's transport; use one style");
        }
        if (stream != null) {
            for (Value v : new Value[] {type, md, tls}) {
                if (v != null) {
                    throw v.keyError("mixes gost fields with Xray's streamSettings (network and security choose "
                            + "the transport and TLS there); use one style");
                }
            }
        }
        if (transport != null) {
            for (Value v : new Value[] {type, md}) {
                if (v != null) {
                    throw v.keyError("mixes gost fields with sing-box's transport (its type chooses the "
                            + "transport, the sibling tls is sing-box's); use one style");
                }
            }
        }
    }

    private static String auth(Obj a) {
        if (a == null) {
            return "";
        }
        String user = a.text("username");
        String pass = a.text("password");
        a.end();
        return enc(user) + ":" + enc(pass) + "@";
    }

    /**
     * gost metadata: scalars as text; a map (gost's {@code header: {X-A: b}}) becomes one key per entry joined with
     * a dot ({@code header.X-A}), the form the transports and the command line use.
     */
    private static void metadata(Obj md, String prefix, Map<String, String> q) {
        if (md == null) {
            return;
        }
        for (String key : md.keys()) {
            md.accept(key);
            flatten(md.fields.get(key), key, prefix, q);
        }
        md.end();
    }

    private static void flatten(Value v, String key, String prefix, Map<String, String> q) {
        if (v instanceof Scalar s) {
            if (s.isNull()) {
                throw v.error("needs a value");
            }
            boolean special = key.equalsIgnoreCase("grpcInsecure");
            q.put(special ? key : prefix + key, s.text);
        } else if (v instanceof Obj o) {
            for (String k : o.keys()) {
                o.accept(k);
                flatten(o.fields.get(k), key + "." + k, prefix, q);
            }
        } else {
            throw v.error("lists are not supported in metadata");
        }
    }

    private static List<Obj> objects(Arr a) {
        return a == null ? List.of() : a.objects();
    }

    private static String required(Obj o, String key) {
        String v = o.text(key);
        if (v == null || v.isBlank()) {
            throw o.error("missing required field '" + key + "'");
        }
        return v;
    }

    /** Runs a step whose plain {@link IllegalArgumentException} is reported at {@code o}. */
    private static <T> T at(Obj o, Supplier<T> step) {
        try {
            return step.get();
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw o.error(e.getMessage());
        }
    }

    private static void put(Map<String, String> q, String k, String v) {
        if (v != null) {
            q.put(k, v);
        }
    }

    private static String query(Map<String, String> q) {
        if (q.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("?");
        for (var e : q.entrySet()) {
            if (sb.length() > 1) {
                sb.append('&');
            }
            sb.append(enc(e.getKey())).append('=').append(enc(e.getValue()));
        }
        return sb.toString();
    }

    private static String enc(String s) {
        return s == null ? "" : java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

}
