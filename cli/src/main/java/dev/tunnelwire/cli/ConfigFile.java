package dev.tunnelwire.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * gost's YAML/JSON configuration ({@code services}, {@code chains}, {@code hops}, {@code nodes}, {@code handler},
 * {@code listener}, {@code connector}, {@code dialer}, {@code forwarder}, {@code metadata}, {@code auth},
 * {@code tls}), read strictly: an unknown field is an error naming the field and its line and column.
 */
final class ConfigFile {

    private ConfigFile() {
    }

    /** Reads a file (YAML, or JSON, which is YAML too) or an inline JSON document starting with {@code {}. */
    static Specs.Config load(String source, Schemes schemes) throws IOException {
        ObjectMapper mapper = source.trim().startsWith("{")
                ? JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build()
                : YAMLMapper.builder(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
        Root root = source.trim().startsWith("{") ? mapper.readValue(source, Root.class)
                : mapper.readValue(Files.newBufferedReader(Path.of(source)), Root.class);
        return convert(root, schemes);
    }

    static Specs.Config convert(Root root, Schemes schemes) {
        CmdLine cmd = new CmdLine(schemes);
        List<Specs.Chain> chains = new ArrayList<>();
        for (ChainCfg c : nonNull(root.chains)) {
            List<Specs.Node> hops = new ArrayList<>();
            for (HopCfg h : nonNull(c.hops)) {
                if (nonNull(h.nodes).size() != 1) {
                    throw new IllegalArgumentException("chain '" + c.name + "' hop '" + h.name
                            + "': exactly one node per hop is supported, found " + nonNull(h.nodes).size());
                }
                NodeCfg n = h.nodes.get(0);
                hops.add(cmd.node(n.name == null ? h.name : n.name, GostUrl.parse(nodeUrl(n))));
            }
            chains.add(new Specs.Chain(required(c.name, "chains[].name"), hops));
        }
        List<Specs.Service> services = new ArrayList<>();
        for (ServiceCfg s : nonNull(root.services)) {
            services.add(cmd.service(required(s.name, "services[].name"), GostUrl.parse(serviceUrl(s)),
                    s.handler == null ? null : s.handler.chain));
        }
        return new Specs.Config(services, chains);
    }

    /** Writes a service as the equivalent command-line URL, so both inputs share one set of rules. */
    private static String serviceUrl(ServiceCfg s) {
        String handler = s.handler == null || s.handler.type == null ? "auto" : s.handler.type;
        String listener = s.listener == null || s.listener.type == null ? "tcp" : s.listener.type;
        StringBuilder u = new StringBuilder(handler).append('+').append(listener).append("://");
        if (s.handler != null && s.handler.auth != null) {
            u.append(enc(s.handler.auth.username)).append(':').append(enc(s.handler.auth.password)).append('@');
        }
        u.append(required(s.addr, "services[].addr"));
        if (s.forwarder != null && !nonNull(s.forwarder.nodes).isEmpty()) {
            u.append('/');
            List<String> t = new ArrayList<>();
            for (TargetCfg n : s.forwarder.nodes) {
                t.add(required(n.addr, "forwarder.nodes[].addr"));
            }
            u.append(String.join(",", t));
        }
        Map<String, String> q = new LinkedHashMap<>();
        if (s.handler != null) {
            metadata(s.handler.metadata, "handler.", q);
        }
        if (s.listener != null) {
            metadata(s.listener.metadata, "listener.", q);
            if (s.listener.tls != null) {
                put(q, "cert", s.listener.tls.certFile);
                put(q, "key", s.listener.tls.keyFile);
                put(q, "ca", s.listener.tls.caFile);
            }
        }
        return u.append(query(q)).toString();
    }

    private static String nodeUrl(NodeCfg n) {
        String connector = n.connector == null || n.connector.type == null ? "http" : n.connector.type;
        String dialer = n.dialer == null || n.dialer.type == null ? "tcp" : n.dialer.type;
        StringBuilder u = new StringBuilder(connector).append('+').append(dialer).append("://");
        if (n.connector != null && n.connector.auth != null) {
            u.append(enc(n.connector.auth.username)).append(':').append(enc(n.connector.auth.password)).append('@');
        }
        u.append(required(n.addr, "nodes[].addr"));
        Map<String, String> q = new LinkedHashMap<>();
        if (n.connector != null) {
            metadata(n.connector.metadata, "connector.", q);
        }
        if (n.dialer != null) {
            metadata(n.dialer.metadata, "dialer.", q);
            if (n.dialer.tls != null) {
                put(q, "secure", n.dialer.tls.secure == null ? null : n.dialer.tls.secure.toString());
                put(q, "serverName", n.dialer.tls.serverName);
                put(q, "ca", n.dialer.tls.caFile);
                put(q, "cert", n.dialer.tls.certFile);
                put(q, "key", n.dialer.tls.keyFile);
            }
        }
        return u.append(query(q)).toString();
    }

    private static void metadata(Map<String, JsonNode> md, String prefix, Map<String, String> q) {
        if (md == null) {
            return;
        }
        for (var e : md.entrySet()) {
            JsonNode v = e.getValue();
            if (v.isContainerNode()) {
                throw new IllegalArgumentException("metadata '" + e.getKey() + "': maps and lists are not supported"
                        + " in metadata yet");
            }
            String key = e.getKey();
            boolean tlsOrSpecial = key.equalsIgnoreCase("grpcInsecure");
            q.put(tlsOrSpecial ? key : prefix + key, v.asText());
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

    private static <T> List<T> nonNull(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static String required(String v, String field) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("missing required field '" + field + "'");
        }
        return v;
    }

    // ---- the file's structure (gost x/config) ----

    static final class Root {
        public List<ServiceCfg> services;
        public List<ChainCfg> chains;
    }

    static final class ServiceCfg {
        public String name;
        public String addr;
        public HandlerCfg handler;
        public ListenerCfg listener;
        public ForwarderCfg forwarder;
    }

    static final class HandlerCfg {
        public String type;
        public AuthCfg auth;
        public String chain;
        public Map<String, JsonNode> metadata;
    }

    static final class ListenerCfg {
        public String type;
        public ServerTlsCfg tls;
        public Map<String, JsonNode> metadata;
    }

    static final class ForwarderCfg {
        public List<TargetCfg> nodes;
    }

    static final class TargetCfg {
        public String name;
        public String addr;
    }

    static final class AuthCfg {
        public String username;
        public String password;
    }

    static final class ServerTlsCfg {
        public String certFile;
        public String keyFile;
        public String caFile;
    }

    static final class ChainCfg {
        public String name;
        public List<HopCfg> hops;
    }

    static final class HopCfg {
        public String name;
        public List<NodeCfg> nodes;
    }

    static final class NodeCfg {
        public String name;
        public String addr;
        public ConnectorCfg connector;
        public DialerCfg dialer;
    }

    static final class ConnectorCfg {
        public String type;
        public AuthCfg auth;
        public Map<String, JsonNode> metadata;
    }

    static final class DialerCfg {
        public String type;
        public ClientTlsCfg tls;
        public Map<String, JsonNode> metadata;
    }

    static final class ClientTlsCfg {
        public Boolean secure;
        public String serverName;
        public String caFile;
        public String certFile;
        public String keyFile;
    }
}
