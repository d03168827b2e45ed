package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gost's YAML/JSON structure (peer-gost.md 10 and 11.3), read strictly. */
class ConfigFileTest {

    private final Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());

    @Test
    void forwardServerAndClientYaml(@TempDir Path dir) throws Exception {
        Path server = dir.resolve("server.yaml");
        Files.writeString(server, """
                services:
                - name: pht-in
                  addr: 127.0.0.1:8080
                  handler: {type: forward}
                  listener:
                    type: pht
                    metadata: {authorizePath: /auth}
                  forwarder:
                    nodes:
                    - {name: target-0, addr: 127.0.0.1:9000}
                """);
        Specs.Config c = ConfigFile.load(server.toString(), schemes);
        Specs.Service s = c.services().get(0);
        assertEquals("forward", s.handler());
        assertEquals("pht", s.transport());
        assertEquals(List.of("127.0.0.1:9000"), s.targets());
        assertEquals("/auth", s.listenerParams().get("authorizePath"));

        Path client = dir.resolve("client.yaml");
        Files.writeString(client, """
                services:
                - name: tcp-in
                  addr: 127.0.0.1:2222
                  handler: {type: tcp, chain: chain-0}
                  listener: {type: tcp}
                  forwarder:
                    nodes:
                    - {name: target-0, addr: 127.0.0.1:9000}
                chains:
                - name: chain-0
                  hops:
                  - name: hop-0
                    nodes:
                    - name: node-0
                      addr: 127.0.0.1:8080
                      connector: {type: relay, auth: {username: u, password: p}, metadata: {nodelay: true}}
                      dialer: {type: phts, tls: {secure: false, serverName: example.com}}
                """);
        c = ConfigFile.load(client.toString(), schemes);
        assertEquals("chain-0", c.services().get(0).chain());
        Specs.Node n = c.chains().get(0).hops().get(0);
        assertEquals("relay", n.connector());
        assertEquals("pht", n.transport());
        assertEquals("u", n.user());
        assertEquals("example.com", n.tls().serverName());
        assertEquals("true", n.connectorParams().get("nodelay"));
    }

    @Test
    void inlineJson() throws Exception {
        Specs.Config c = ConfigFile.load("{\"services\":[{\"name\":\"s\",\"addr\":\":1080\","
                + "\"handler\":{\"type\":\"socks5\",\"auth\":{\"username\":\"u\",\"password\":\"p\"}}}]}", schemes);
        assertEquals("socks5", c.services().get(0).handler());
        assertEquals("p", c.services().get(0).users().get("u"));
    }

    @Test
    void unknownFieldIsAnErrorWithItsPosition(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, """
                services:
                - name: s
                  addr: 127.0.0.1:1
                  handler: {type: http}
                  listner: {type: tcp}
                """);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigFile.load(f.toString(), schemes));
        assertEquals(f + ":5:3: services[0].listner: unknown field; known fields here: name, addr, handler, "
                + "listener, forwarder, metadata", e.getMessage());
    }

    @Test
    void unknownMetadataIsRejectedByTheTransport(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("md.yaml");
        Files.writeString(f, """
                services:
                - name: s
                  addr: 127.0.0.1:1
                  handler: {type: http}
                  listener: {type: pht, metadata: {pullpathh: /x}}
                """);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigFile.load(f.toString(), schemes));
        assertTrue(e.getMessage().startsWith(f + ":5:13: services[0].listener: "), e.getMessage());
        assertTrue(e.getMessage().contains("pullpathh"), e.getMessage());
    }
}
