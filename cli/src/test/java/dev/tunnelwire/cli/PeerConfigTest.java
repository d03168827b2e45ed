package dev.tunnelwire.cli;

import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.ws.WsOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Config-file rules across the three styles (gost metadata, sing-box {@code transport}/{@code tls}, Xray
 * {@code streamSettings}): YAML block style, gost metadata maps and the gost YAML example of peer-gost.md section
 * 11.3, and the errors (unknown field, wrong type, unsupported feature, mixed styles, duplicate keys) with their exact
 * text and position. The peers' snippets themselves: {@link SingBoxConfigTest}, {@link XrayConfigTest}.
 */
class PeerConfigTest extends PeerConfigTestBase {

    // ---------------------------------------------------------------- the same in YAML block style

    @Test
    void yamlBlockStyle() throws Exception {
        Path f = write("block.yaml", """
                services:
                - name: in
                  addr: 127.0.0.1:8443
                  handler:
                    type: vless
                    auth: {username: b831381d-6324-4d53-ad4f-8cda48b30811}
                  listener:
                    streamSettings:
                      network: grpc
                      security: tls
                      grpcSettings:
                        serviceName: gunsvc
                      tlsSettings:
                        certificates:
                        - certificateFile: certs/cert.pem
                          keyFile: certs/key.pem
                chains:
                - name: out
                  hops:
                  - name: h
                    nodes:
                    - name: n
                      addr: 127.0.0.1:8443
                      connector: {type: vless, auth: {username: b831381d-6324-4d53-ad4f-8cda48b30811}}
                      dialer:
                        transport:
                          type: grpc
                          service_name: gunsvc
                          idle_timeout: 30s
                        tls:
                          enabled: true
                          server_name: localhost
                          certificate_path: certs/ca.pem
                """);
        Specs.Config c = ConfigFile.load(f.toString(), schemes);
        assertEquals("gunsvc", ((GrpcOptions) c.services().get(0).peer().options()).serviceName());
        Specs.Node n = c.chains().get(0).hops().get(0);
        assertEquals(Duration.ofSeconds(30), ((GrpcOptions) n.peer().options()).h2().idleTimeout());
        assertEquals("localhost", n.peer().clientTls().serverName());
    }

    // ---------------------------------------------------------------- gost metadata maps

    @Test
    void gostHeaderMapsInMetadata() throws Exception {
        // peer-gost.md 11.3: dialer metadata {path: /ws, header: {X-B: c}}
        Path f = write("gost.yaml", """
                chains:
                - name: chain-0
                  hops:
                  - name: hop-0
                    nodes:
                    - name: node-0
                      addr: 127.0.0.1:8443
                      connector: {type: http, auth: {username: u, password: p}}
                      dialer:    {type: wss, tls: {secure: false, serverName: example.com}, metadata: {path: /ws, header: {X-B: c}}}
                services:
                - name: svc
                  addr: 127.0.0.1:8080
                  handler:  {type: relay, auth: {username: u, password: p}, chain: chain-0, metadata: {nodelay: true}}
                  listener: {type: ws, metadata: {path: /ws, header: {X-Served-By: tunnelwire}}}
                """);
        Specs.Config c = ConfigFile.load(f.toString(), schemes);
        Specs.Node n = c.chains().get(0).hops().get(0);
        assertEquals(Map.of("path", "/ws", "header.X-B", "c"), n.dialerParams());
        WsOptions d = (WsOptions) schemes.parse(n.transport(), n.dialerParams());
        assertEquals(Map.of("X-B", "c"), d.headers());
        Specs.Service s = c.services().get(0);
        WsOptions l = (WsOptions) schemes.parse(s.transport(), s.listenerParams());
        assertEquals(Map.of("X-Served-By", "tunnelwire"), l.headers());
        assertEquals("true", s.handlerParams().get("nodelay"));
    }

    /** peer-gost.md 11.3, the whole example (with files for its {@code …}), the connector's header map aside. */
    @Test
    void gostYamlExampleOfTheSpec() throws Exception {
        String example = """
                tls: {certFile: certs/cert.pem, keyFile: certs/key.pem, caFile: certs/ca.pem, validity: 8760h, commonName: gost.run, organization: GOST}
                services:
                - name: svc
                  addr: 127.0.0.1:8080
                  handler:  {type: relay, auth: {username: u, password: p}, chain: chain-0, metadata: {nodelay: true}}
                  listener: {type: ws, tls: {certFile: certs/cert.pem, keyFile: certs/key.pem, caFile: certs/ca.pem, options: {minVersion: VersionTLS12, alpn: [h2]}}, metadata: {path: /ws}}
                  forwarder: {nodes: [{name: t0, addr: 127.0.0.1:9000}]}
                  metadata: {}
                chains:
                - name: chain-0
                  hops:
                  - name: hop-0
                    nodes:
                    - name: node-0
                      addr: 127.0.0.1:8443
                      connector: {type: http, auth: {username: u, password: p}, metadata: {header: {X-A: b}}}
                      dialer:    {type: wss, tls: {secure: false, serverName: example.com}, metadata: {path: /ws, header: {X-B: c}}}
                """;
        // our HTTP CONNECT connector sends no extra headers: the one part of the example that is refused
        String e = loadError("gost-11.3.yaml", example);
        assertTrue(e.startsWith("16:18: chains[0].hops[0].nodes[0].connector: "), e);
        assertTrue(e.contains("header.X-A"), e);

        // gost ignores tls on a cleartext ws listener; here that is an error
        String noHeader = example.replace(", metadata: {header: {X-A: b}}", "");
        assertEquals("6:24: services[0].listener.tls: gost's tls on the cleartext listener type 'ws' would have no "
                + "effect (use its TLS form, e.g. wss or tls)", loadError("gost-11.3b.yaml", noHeader));

        Specs.Config c = ConfigFile.load(write("gost-11.3c.yaml", noHeader.replace("listener: {type: ws,",
                "listener: {type: wss,")).toString(), schemes);
        Specs.GlobalTls g = c.tls();
        assertEquals(cert.toString(), g.certFile());
        assertEquals(key.toString(), g.keyFile());
        assertEquals(dir.resolve("certs/ca.pem").toString(), g.caFile());
        assertEquals(Duration.ofHours(8760), g.validity());
        assertEquals("gost.run", g.commonName());
        assertEquals("GOST", g.organization());
        Specs.Service s = c.services().get(0);
        assertEquals("relay", s.handler(), "relay stays relay (forward mode) with a forwarder");
        assertEquals("ws", s.transport());
        assertEquals(Map.of("u", "p"), s.users());
        assertEquals("chain-0", s.chain());
        assertEquals(List.of("127.0.0.1:9000"), s.targets());
        assertEquals(Map.of("nodelay", "true"), s.handlerParams());
        assertEquals(Map.of("path", "/ws"), s.listenerParams());
        assertEquals(new Specs.ServerTls(cert.toString(), key.toString(), dir.resolve("certs/ca.pem").toString(),
                List.of("h2")), s.tls());
        Specs.Node n = c.chains().get(0).hops().get(0);
        assertEquals("http", n.connector());
        assertEquals("ws", n.transport());
        assertEquals("u", n.user());
        assertEquals(new Specs.ClientTls(false, "example.com", null, null, null), n.tls());
        assertEquals(Map.of("path", "/ws", "header.X-B", "c"), n.dialerParams());
    }

    @Test
    void gostTopLevelCertificateAndGeneratedOne() throws Exception {
        Path f = write("global.yaml", """
                tls: {certFile: certs/cert.pem, keyFile: certs/key.pem}
                services:
                - {name: s, addr: 127.0.0.1:0, handler: {type: http}, listener: {type: tls, tls: {options: {alpn: [http/1.1]}}}}
                """);
        Specs.Config c = ConfigFile.load(f.toString(), schemes);
        try (Launcher l = new Launcher(TransportRegistry.defaultRegistry())) {
            l.start(c);
        }
        TlsServerOptions generated = Launcher.selfSigned("gost.run", "GOST", Duration.ofDays(2));
        java.security.cert.X509Certificate x = generated.certChain().get(0);
        assertEquals("CN=gost.run,O=GOST", x.getSubjectX500Principal().getName());
        assertTrue(x.getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("gost.run")));
        assertTrue(x.getNotAfter().getTime() - System.currentTimeMillis() < Duration.ofDays(2).toMillis());
        assertEquals("5:53: services[0].listener.tls.options.minVersion: not supported by tunnelwire: only "
                        + "VersionTLS12 (TLS 1.2 and 1.3 are negotiated)",
                listenerError("{type: tls, tls: {options: {minVersion: VersionTLS13}}}"));
    }

    @Test
    void gostConnectorHeaderMapIsRejectedByTheConnector() throws Exception {
        // peer-gost.md 11.3's connector header map: our http connector has no extra headers, so it is an error
        String e = loadError("gost.yaml", """
                chains:
                - name: chain-0
                  hops:
                  - name: hop-0
                    nodes:
                    - name: node-0
                      addr: 127.0.0.1:8443
                      connector: {type: http, metadata: {header: {X-A: b}}}
                """);
        assertTrue(e.startsWith("8:18: chains[0].hops[0].nodes[0].connector: "), e);
        assertTrue(e.contains("header.X-A"), e);
    }

    // ---------------------------------------------------------------- errors

    @Test
    void unknownFieldInWsSettings() throws Exception {
        assertEquals("5:80: services[0].listener.streamSettings.wsSettings.foo: unknown field; known fields here: "
                        + "host, path, headers, acceptProxyProtocol, heartbeatPeriod",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"path\": \"/ws\", "
                        + "\"foo\": 1}}}"));
    }

    @Test
    void unknownFieldInSingBoxTransport() throws Exception {
        assertEquals("5:44: services[0].listener.transport.serviceName: unknown field; known fields here: type, "
                        + "service_name, idle_timeout, ping_timeout, permit_without_stream",
                listenerError("{\"transport\": {\"type\": \"grpc\", \"serviceName\": \"x\"}}"));
    }

    @Test
    void wrongTypes() throws Exception {
        assertEquals("5:60: services[0].listener.transport.max_early_data: must be a whole number, found a string",
                listenerError("{\"transport\": {\"type\": \"ws\", \"max_early_data\": \"2048\"}}"));
        assertEquals("9:84: chains[0].hops[0].nodes[0].dialer.streamSettings.grpcSettings.multiMode: must be a "
                        + "boolean, found a string",
                dialerError("{\"streamSettings\": {\"network\": \"grpc\", \"grpcSettings\": {\"multiMode\": "
                        + "\"true\"}}}"));
        assertEquals("5:60: services[0].listener.transport.idle_timeout: invalid duration '15' (Go syntax, e.g. "
                        + "\"15s\", \"1m30s\")",
                listenerError("{\"transport\": {\"type\": \"grpc\", \"idle_timeout\": \"15\"}}"));
        assertEquals("5:36: services[0].listener.transport.type: must be a string, found a number",
                listenerError("{\"transport\": {\"type\": 1}}"));
    }

    @Test
    void unsupportedPeerFeatures() throws Exception {
        assertEquals("9:70: chains[0].hops[0].nodes[0].dialer.tls.utls: not supported by tunnelwire: uTLS "
                        + "fingerprints (the JDK's ClientHello is sent)",
                dialerError("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"enabled\": true, \"utls\": "
                        + "{\"enabled\": true, \"fingerprint\": \"chrome\"}}}"));
        assertEquals("9:70: chains[0].hops[0].nodes[0].dialer.tls.reality: not supported by tunnelwire: REALITY",
                dialerError("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"enabled\": true, \"reality\": "
                        + "{\"enabled\": true}}}"));
        assertEquals("5:50: services[0].listener.streamSettings.sockopt: not supported by tunnelwire: socket "
                        + "options",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"sockopt\": {\"tcpFastOpen\": true}}}"));
        assertEquals("5:62: services[0].listener.streamSettings.security: not supported by tunnelwire: REALITY",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"security\": \"reality\"}}"));
        assertEquals("9:85: chains[0].hops[0].nodes[0].dialer.streamSettings.tlsSettings.fingerprint: not "
                        + "supported by tunnelwire: uTLS fingerprint 'chrome' (\"unsafe\", Go's own TLS stack, is "
                        + "the equivalent of what tunnelwire sends)",
                dialerError("{\"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"fingerprint\": "
                        + "\"chrome\"}}}"));
        assertEquals("9:70: chains[0].hops[0].nodes[0].dialer.streamSettings.tlsSettings.allowInsecure: Xray "
                        + "removed allowInsecure (use pinnedPeerCertSha256 or verifyPeerCertByName in Xray; here, "
                        + "trust the certificate with certificates)",
                dialerError("{\"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"allowInsecure\": "
                        + "true}}}"));
        assertEquals("5:44: services[0].listener.streamSettings.network: Xray removed the HTTP transport (use "
                        + "sing-box's transport {\"type\": \"http\"} for the V2Ray HTTP transport)",
                listenerError("{\"streamSettings\": {\"network\": \"h2\"}}"));
        assertEquals("5:80: services[0].listener.streamSettings.wsSettings.heartbeatPeriod: not supported by "
                        + "tunnelwire: WebSocket heartbeat pings",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"path\": \"/ws\", "
                        + "\"heartbeatPeriod\": 30}}}"));
        assertEquals("5:36: services[0].listener.transport.type: not supported by tunnelwire: the QUIC transport",
                listenerError("{\"transport\": {\"type\": \"quic\"}}"));
        assertEquals("5:83: services[0].listener.tls.min_version: not supported by tunnelwire: only \"1.2\" (TLS "
                        + "1.2 and 1.3 are negotiated)",
                listenerError("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"enabled\": true, "
                        + "\"min_version\": \"1.3\"}}"));
    }

    @Test
    void mixedStyles() throws Exception {
        assertEquals("5:43: services[0].listener.streamSettings: mixes Xray's streamSettings with sing-box's "
                        + "transport; use one style",
                listenerError("{\"transport\": {\"type\": \"ws\"}, \"streamSettings\": {\"network\": \"ws\"}}"));
        assertEquals("5:14: services[0].listener.type: mixes gost fields with Xray's streamSettings (network and "
                        + "security choose the transport and TLS there); use one style",
                listenerError("{\"type\": \"ws\", \"streamSettings\": {\"network\": \"ws\"}}"));
        assertEquals("9:45: chains[0].hops[0].nodes[0].dialer.metadata: mixes gost fields with sing-box's transport "
                        + "(its type chooses the transport, the sibling tls is sing-box's); use one style",
                dialerError("{\"transport\": {\"type\": \"ws\"}, \"metadata\": {\"path\": \"/ws\"}}"));
        assertEquals("5:68: services[0].listener.streamSettings.tls: unknown field; known fields here: network, "
                        + "method, wsSettings, httpupgradeSettings, grpcSettings, rawSettings, tcpSettings, "
                        + "xhttpSettings, splithttpSettings, kcpSettings, hysteriaSettings, realitySettings, "
                        + "sockopt, finalmask, address, port, security, tlsSettings",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {}, \"tls\": "
                        + "{\"enabled\": true}}}"));
    }

    @Test
    void semanticErrors() throws Exception {
        assertEquals("5:68: services[0].listener.streamSettings.grpcSettings: given, but the network is 'ws'",
                listenerError("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {}, \"grpcSettings\": "
                        + "{}}}"));
        assertEquals("5:32: services[0].listener.streamSettings.tlsSettings: a TLS listener needs certificates: "
                        + "[{certificateFile, keyFile}]",
                listenerError("{\"streamSettings\": {\"security\": \"tls\"}}"));
        assertEquals("5:42: services[0].listener.transport.headers: has no effect on a listener (sing-box's ws "
                        + "server ignores it)",
                listenerError("{\"transport\": {\"type\": \"ws\", \"headers\": {\"X-A\": \"b\"}}}"));
        assertEquals("5:50: services[0].listener.tls: TLS fields are given but 'enabled' is not true",
                listenerError("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"certificate_path\": \"x.pem\"}}"));
        assertEquals("5:88: services[0].listener.tls.certificate_path: cannot read file missing.pem",
                listenerError("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"enabled\": true, \"certificate_path\":"
                        + " \"missing.pem\", \"key_path\": \"missing.key\"}}"));
        assertEquals("5:36: services[0].listener.transport.type: unknown transport type 'websocket' (sing-box knows "
                        + "http, ws, quic, grpc, httpupgrade)",
                listenerError("{\"transport\": {\"type\": \"websocket\"}}"));
        assertEquals("5:27: services[0].listener.transport: ws path must start with '/': ws",
                listenerError("{\"transport\": {\"type\": \"ws\", \"path\": \"ws\"}}"));
    }

    @Test
    void jsonFileAndInlineJsonPositions() throws Exception {
        Path f = write("c.json", "{\n  \"services\": [\n    {\"name\": \"s\", \"addr\": \"127.0.0.1:1\",\n"
                + "     \"listener\": {\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"pth\": \"/\"}}}}\n"
                + "  ]\n}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigFile.load(f.toString(), schemes));
        assertEquals(f + ":4:70: services[0].listener.streamSettings.wsSettings.pth: unknown field; known fields "
                + "here: host, path, headers, acceptProxyProtocol, heartbeatPeriod", e.getMessage());
        IllegalArgumentException inline = assertThrows(IllegalArgumentException.class, () -> ConfigFile.load(
                "{\"services\": [{\"name\": \"s\", \"addr\": \":1\", \"listener\": {\"transport\": {\"type\": "
                        + "\"grpc\", \"multiMode\": true}}}]}", schemes));
        assertEquals("<inline>:1:86: services[0].listener.transport.multiMode: unknown field; known fields here: "
                + "type, service_name, idle_timeout, ping_timeout, permit_without_stream", inline.getMessage());
    }

    @Test
    void duplicateKeysAreErrors() throws Exception {
        assertEquals("5:42: services[0].listener.transport.type: duplicate field",
                listenerError("{\"transport\": {\"type\": \"ws\", \"type\": \"grpc\"}}"));
    }
}
