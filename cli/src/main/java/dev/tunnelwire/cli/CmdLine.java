package dev.tunnelwire.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns gost-style {@code -L} and {@code -F} URLs into {@link Specs}. Query parameters go to the side that knows
 * them: an explicit prefix ({@code handler.}, {@code listener.}, {@code connector.}, {@code dialer.}) decides;
 * otherwise the proxy protocol's own keys go to the handler/connector, the TLS keys ({@code cert}, {@code key},
 * {@code ca}, {@code secure}, {@code serverName}, {@code grpcInsecure}) to TLS, and the rest to the transport, whose
 * parser rejects keys it does not know — nothing is silently ignored.
 */
final class CmdLine {

    /** Metadata keys understood by the proxy handlers and connectors (see {@code Protocols}). */
    static final Set<String> PROTOCOL_KEYS = Set.of("nodelay", "proxyagent", "http.proxyagent", "authbasicrealm",
            "earlyreply");
    private static final Set<String> SERVER_TLS_KEYS = Set.of("cert", "certfile", "tls.certfile", "key", "keyfile",
            "tls.keyfile", "ca", "cafile", "tls.cafile");
    private static final Set<String> CLIENT_TLS_KEYS = Set.of("secure", "servername", "ca", "cafile", "cert",
            "certfile", "key", "keyfile");

    private final Schemes schemes;

    CmdLine(Schemes schemes) {
        this.schemes = schemes;
    }

    Specs.Config build(List<String> services, List<String> nodes) {
        List<Specs.Chain> chains = new ArrayList<>();
        String chainName = null;
        if (!nodes.isEmpty()) {
            List<Specs.Node> hops = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                hops.add(node("node-" + i, GostUrl.parse(nodes.get(i))));
            }
            chainName = "chain-0";
            chains.add(new Specs.Chain(chainName, hops));
        }
        List<Specs.Service> out = new ArrayList<>();
        for (int i = 0; i < services.size(); i++) {
            out.add(service("service-" + i, GostUrl.parse(services.get(i)), chainName));
        }
        return new Specs.Config(out, chains);
    }

    Specs.Service service(String name, GostUrl u, String chain) {
        String handler;
        String listener;
        if (u.second() != null) {
            handler = u.first();
            listener = u.second();
        } else {
            handler = u.first();
            listener = u.first();
        }
        if (!Schemes.isHandler(handler)) {
            if (u.second() == null && !schemes.isTransport(handler)) {
                throw new IllegalArgumentException("unknown scheme '" + handler + "' in '" + u.raw() + "'");
            }
            if (u.second() != null) {
                throw new IllegalArgumentException("unknown handler '" + handler + "' in '" + u.raw() + "'");
            }
            handler = "auto";
        }
        if (!schemes.isTransport(listener)) {
            listener = "tcp";
        }
        if (!u.targets().isEmpty()) {
            // gost: a path makes a forwarding service; relay stays relay (forward mode), the rest forward.
            handler = handler.equals("relay") ? "relay" : "forward";
        }
        Map<String, String> handlerParams = new LinkedHashMap<>();
        Map<String, String> listenerParams = new LinkedHashMap<>();
        Map<String, String> tlsParams = new LinkedHashMap<>();
        boolean grpcInsecure = split(u.params(), "handler.", "listener.", SERVER_TLS_KEYS, handlerParams,
                listenerParams, tlsParams);
        Specs.ServerTls tls = null;
        if (Schemes.tls(listener, grpcInsecure)) {
            tls = new Specs.ServerTls(first(tlsParams, "cert", "certfile", "tls.certfile"),
                    first(tlsParams, "key", "keyfile", "tls.keyfile"), first(tlsParams, "ca", "cafile", "tls.cafile"));
        } else if (!tlsParams.isEmpty()) {
            throw new IllegalArgumentException("TLS options " + tlsParams.keySet() + " on cleartext listener '"
                    + listener + "' in '" + u.raw() + "'");
        }
        Map<String, String> users = new LinkedHashMap<>();
        if (u.user() != null) {
            users.put(u.user(), u.password() == null ? "" : u.password());
        }
        gostDefaults(schemes.transport(listener), listenerParams);
        return new Specs.Service(name, u.host(), u.port(), handler, schemes.transport(listener), tls, users,
                u.targets(), handlerParams, listenerParams, chain, null);
    }

    Specs.Node node(String name, GostUrl u) {
        String connector;
        String dialer;
        if (u.second() != null) {
            connector = u.first();
            dialer = u.second();
            if (!Schemes.isConnector(connector)) {
                throw new IllegalArgumentException("unknown connector '" + connector + "' in '" + u.raw() + "'");
            }
        } else {
            connector = u.first();
            dialer = u.first();
            if (!Schemes.isConnector(connector)) {
                if (!schemes.isTransport(connector)) {
                    throw new IllegalArgumentException("unknown scheme '" + connector + "' in '" + u.raw() + "'");
                }
                connector = "http";
            }
        }
        if (!schemes.isTransport(dialer)) {
            dialer = "tcp";
        }
        if (!u.targets().isEmpty()) {
            throw new IllegalArgumentException("a chain node takes no forward target: '" + u.raw() + "'");
        }
        Map<String, String> connectorParams = new LinkedHashMap<>();
        Map<String, String> dialerParams = new LinkedHashMap<>();
        Map<String, String> tlsParams = new LinkedHashMap<>();
        boolean grpcInsecure = split(u.params(), "connector.", "dialer.", CLIENT_TLS_KEYS, connectorParams,
                dialerParams, tlsParams);
        Specs.ClientTls tls = null;
        if (Schemes.tls(dialer, grpcInsecure)) {
            tls = new Specs.ClientTls(Boolean.parseBoolean(tlsParams.getOrDefault("secure", "false")),
                    tlsParams.get("servername"), first(tlsParams, "ca", "cafile"), first(tlsParams, "cert", "certfile"),
                    first(tlsParams, "key", "keyfile"));
        } else if (!tlsParams.isEmpty()) {
            throw new IllegalArgumentException("TLS options " + tlsParams.keySet() + " on cleartext dialer '"
                    + dialer + "' in '" + u.raw() + "'");
        }
        gostDefaults(schemes.transport(dialer), dialerParams);
        return new Specs.Node(name, u.host(), u.port(), connector, schemes.transport(dialer), tls, u.user(),
                u.password(), connectorParams, dialerParams, null);
    }

    /**
     * On the command line {@code grpc} is gost's gRPC tunnel ({@code /GostTunel/Tunnel}); Xray/sing-box "gun" is
     * chosen with {@code flavour=gun}.
     */
    private static void gostDefaults(String transport, Map<String, String> params) {
        if (transport.equals("grpc") && params.keySet().stream()
                .noneMatch(k -> k.equalsIgnoreCase("flavour") || k.equalsIgnoreCase("flavor"))) {
            params.put("flavour", "gost");
        }
    }

    /** Splits query parameters; returns the value of {@code grpcInsecure}. TLS keys are lower-cased. */
    private static boolean split(Map<String, String> params, String protoPrefix, String transportPrefix,
                                 Set<String> tlsKeys, Map<String, String> proto, Map<String, String> transport,
                                 Map<String, String> tls) {
        boolean grpcInsecure = false;
        for (var e : params.entrySet()) {
            String k = e.getKey();
            String lower = k.toLowerCase(Locale.ROOT);
            if (lower.equals("grpcinsecure")) {
                grpcInsecure = Boolean.parseBoolean(e.getValue());
            } else if (lower.startsWith(protoPrefix)) {
                proto.put(k.substring(protoPrefix.length()), e.getValue());
            } else if (lower.startsWith(transportPrefix)) {
                transport.put(k.substring(transportPrefix.length()), e.getValue());
            } else if (PROTOCOL_KEYS.contains(lower)) {
                proto.put(k, e.getValue());
            } else if (tlsKeys.contains(lower)) {
                tls.put(lower, e.getValue());
            } else {
                transport.put(k, e.getValue());
            }
        }
        return grpcInsecure;
    }

    private static String first(Map<String, String> m, String... keys) {
        for (String k : keys) {
            if (m.containsKey(k)) {
                return m.get(k);
            }
        }
        return null;
    }
}
