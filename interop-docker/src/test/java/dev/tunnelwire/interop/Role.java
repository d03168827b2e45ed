package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One peer process/container and the config it is given: every cell of the matrix that needs this peer in this role
 * adds its inbound/outbound (each on its own port) to the same config, so the whole matrix needs one start per role.
 * Subclasses hold the config model of each peer.
 */
abstract sealed class Role permits Role.Gost, Role.Xray, Role.V2fly, Role.Singbox {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Names of the PEM files every role gets (not gost's default names, which it would load on its own). */
    static final String CA = "tw-ca.pem";
    static final String CERT = "tw-cert.pem";
    static final String KEY = "tw-key.pem";

    final String name;
    final String peer;
    final List<Integer> ports = new ArrayList<>();

    Role(String name, String peer) {
        this.name = name;
        this.peer = peer;
    }

    /** Path of one of the PKI files as the peer sees it. */
    static String pki(String file) {
        return PeerLaunch.DIR + "/" + file;
    }

    static String local(int port) {
        return "127.0.0.1:" + port;
    }

    abstract List<String> args();

    abstract Map<String, String> configFiles();

    PeerLaunch launch(Path binary, Map<String, String> pkiFiles) {
        Map<String, String> files = new LinkedHashMap<>(pkiFiles);
        files.putAll(configFiles());
        return new PeerLaunch(name, peer, binary, args(), files, ports);
    }

    static String json(ObjectNode n) {
        try {
            return JSON.writeValueAsString(n);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The config file of the V2Ray family (Xray, v2fly): log level, inbounds, outbounds, routing rules. */
    static Map<String, String> v2rayConfig(ArrayNode inbounds, ArrayNode outbounds, ArrayNode rules) {
        ObjectNode root = F.objectNode();
        root.putObject("log").put("loglevel", "info");
        root.set("inbounds", inbounds);
        root.set("outbounds", outbounds);
        root.putObject("routing").set("rules", rules);
        return Map.of("config.json", json(root));
    }

    /** gost v3: a JSON config ({@code -C gost.json}) of services and chains (peer-gost.md §11.3). */
    static final class Gost extends Role {
        final ArrayNode services = F.arrayNode();
        final ArrayNode chains = F.arrayNode();

        Gost(String name, String peer) {
            super(name, peer);
        }

        @Override
        List<String> args() {
            return List.of("-C", PeerLaunch.DIR + "/gost.json");
        }

        @Override
        Map<String, String> configFiles() {
            ObjectNode root = F.objectNode();
            root.putObject("log").put("level", "info").put("format", "text").put("output", "stderr");
            root.set("services", services);
            root.set("chains", chains);
            return Map.of("gost.json", json(root));
        }
    }

    /** Xray-core: inbounds, outbounds and routing rules by inbound tag (peer-xray.md §8). */
    static final class Xray extends Role {
        final ArrayNode inbounds = F.arrayNode();
        final ArrayNode outbounds = F.arrayNode();
        final ArrayNode rules = F.arrayNode();

        Xray(String name, String peer) {
            super(name, peer);
            // default outbound for server roles (first outbound is the default); finalRules lets VLESS reach 127/8
            ObjectNode direct = outbounds.addObject().put("tag", "direct").put("protocol", "freedom");
            direct.putObject("settings").putArray("finalRules").addObject().put("action", "allow");
        }

        @Override
        List<String> args() {
            return List.of("run", "-c", PeerLaunch.DIR + "/config.json");
        }

        @Override
        Map<String, String> configFiles() {
            return v2rayConfig(inbounds, outbounds, rules);
        }
    }

    /** v2fly v2ray 4.34 (Debian's package): the Xray-style config model, run with {@code -config}. */
    static final class V2fly extends Role {
        final ArrayNode inbounds = F.arrayNode();
        final ArrayNode outbounds = F.arrayNode();
        final ArrayNode rules = F.arrayNode();

        V2fly(String name, String peer) {
            super(name, peer);
            outbounds.addObject().put("tag", "direct").put("protocol", "freedom");
        }

        @Override
        List<String> args() {
            return List.of("-config", PeerLaunch.DIR + "/config.json");
        }

        @Override
        Map<String, String> configFiles() {
            return v2rayConfig(inbounds, outbounds, rules);
        }
    }

    /** sing-box: inbounds, outbounds and route rules by inbound tag (peer-singbox.md §7). */
    static final class Singbox extends Role {
        final ArrayNode inbounds = F.arrayNode();
        final ArrayNode outbounds = F.arrayNode();
        final ArrayNode rules = F.arrayNode();

        Singbox(String name, String peer) {
            super(name, peer);
            outbounds.addObject().put("type", "direct").put("tag", "direct");
        }

        @Override
        List<String> args() {
            return List.of("run", "-c", PeerLaunch.DIR + "/config.json");
        }

        @Override
        Map<String, String> configFiles() {
            ObjectNode root = F.objectNode();
            root.putObject("log").put("level", "info").put("timestamp", true);
            root.set("inbounds", inbounds);
            root.set("outbounds", outbounds);
            ObjectNode route = root.putObject("route");
            route.set("rules", rules);
            route.put("final", "direct");
            return Map.of("config.json", json(root));
        }
    }
}
