package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * End to end through the launcher: a server configured with Xray {@code streamSettings} (VLESS over ws, gRPC and
 * httpupgrade, each with TLS from certificate files) and a client configured with sing-box {@code transport} +
 * {@code tls} objects (ws with header early data, gRPC, httpupgrade; the server certificate trusted through
 * {@code certificate_path}), both as tunnelwire config files; a port forward on the client carries data to an echo
 * server behind the server.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerConfigLauncherTest {

    private static final String UUID = "27848739-7e62-4138-9fd3-098a63964b6b";
    private static LoopbackServers echo;

    @BeforeAll
    static void startEcho() throws Exception {
        echo = LoopbackServers.echo();
    }

    @AfterAll
    static void stopEcho() {
        echo.close();
    }

    @Test
    void xrayServerSingBoxClient(@TempDir Path dir) throws Exception {
        TestPki.get().writePem(dir);
        int wsPort = freePort();
        int grpcPort = freePort();
        int huPort = freePort();
        Path server = dir.resolve("server.yaml");
        Files.writeString(server, """
                services:
                - name: ws-in
                  addr: 127.0.0.1:%1$d
                  handler: {type: vless, auth: {username: %4$s}}
                  listener:
                    streamSettings:
                      network: ws
                      security: tls
                      wsSettings: {path: /ws}
                      tlsSettings:
                        alpn: [http/1.1]
                        certificates: [{certificateFile: %5$s/cert.pem, keyFile: %5$s/key.pem}]
                - name: grpc-in
                  addr: 127.0.0.1:%2$d
                  handler: {type: vless, auth: {username: %4$s}}
                  listener:
                    streamSettings:
                      network: grpc
                      security: tls
                      grpcSettings: {serviceName: TunService}
                      tlsSettings:
                        certificates: [{certificateFile: %5$s/cert.pem, keyFile: %5$s/key.pem}]
                - name: hu-in
                  addr: 127.0.0.1:%3$d
                  handler: {type: vless, auth: {username: %4$s}}
                  listener:
                    streamSettings:
                      network: httpupgrade
                      security: tls
                      httpupgradeSettings: {path: /up}
                      tlsSettings:
                        alpn: http/1.1
                        certificates: [{certificateFile: %5$s/cert.pem, keyFile: %5$s/key.pem}]
                """.formatted(wsPort, grpcPort, huPort, UUID, dir));
        int fwdWs = freePort();
        int fwdGrpc = freePort();
        int fwdHu = freePort();
        Path client = dir.resolve("client.json");
        Files.writeString(client, """
                {
                  "services": [
                    {"name": "fwd-ws", "addr": "127.0.0.1:%1$d", "handler": {"type": "tcp", "chain": "ws"},
                     "forwarder": {"nodes": [{"name": "echo", "addr": "127.0.0.1:%7$d"}]}},
                    {"name": "fwd-grpc", "addr": "127.0.0.1:%2$d", "handler": {"type": "tcp", "chain": "grpc"},
                     "forwarder": {"nodes": [{"name": "echo", "addr": "127.0.0.1:%7$d"}]}},
                    {"name": "fwd-hu", "addr": "127.0.0.1:%3$d", "handler": {"type": "tcp", "chain": "hu"},
                     "forwarder": {"nodes": [{"name": "echo", "addr": "127.0.0.1:%7$d"}]}}
                  ],
                  "chains": [
                    {"name": "ws", "hops": [{"name": "h", "nodes": [{"name": "n", "addr": "127.0.0.1:%4$d",
                      "connector": {"type": "vless", "auth": {"username": "%8$s"}},
                      "dialer": {
                        "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048,
                                      "early_data_header_name": "Sec-WebSocket-Protocol"},
                        "tls": {"enabled": true, "server_name": "localhost",
                                "certificate_path": "%9$s/ca.pem"}}}]}]},
                    {"name": "grpc", "hops": [{"name": "h", "nodes": [{"name": "n", "addr": "127.0.0.1:%5$d",
                      "connector": {"type": "vless", "auth": {"username": "%8$s"}},
                      "dialer": {
                        "transport": {"type": "grpc", "service_name": "TunService"},
                        "tls": {"enabled": true, "server_name": "localhost",
                                "certificate_path": "%9$s/ca.pem"}}}]}]},
                    {"name": "hu", "hops": [{"name": "h", "nodes": [{"name": "n", "addr": "127.0.0.1:%6$d",
                      "connector": {"type": "vless", "auth": {"username": "%8$s"}},
                      "dialer": {
                        "transport": {"type": "httpupgrade", "path": "/up"},
                        "tls": {"enabled": true, "server_name": "localhost",
                                "certificate_path": "%9$s/ca.pem"}}}]}]}
                  ]
                }
                """.formatted(fwdWs, fwdGrpc, fwdHu, wsPort, grpcPort, huPort, echo.port(), UUID, dir));
        Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
        try (Launcher s = new Launcher(TransportRegistry.defaultRegistry());
             Launcher c = new Launcher(TransportRegistry.defaultRegistry())) {
            s.start(ConfigFile.load(server.toString(), schemes));
            c.start(ConfigFile.load(client.toString(), schemes));
            for (int port : new int[] {fwdWs, fwdGrpc, fwdHu}) {
                roundTrip(port);
            }
        }
    }

    /**
     * An Xray-style client that pins the server's leaf certificate ({@code pinnedPeerCertSha256}, as peer-xray.md 8.3
     * recommends for self-signed servers) against a sing-box-style server; a wrong pin fails the TLS handshake.
     */
    @Test
    void xrayClientPinsTheServerCertificate(@TempDir Path dir) throws Exception {
        TestPki.get().writePem(dir);
        String pin = HexFormat.ofDelimiter(":").formatHex(MessageDigest.getInstance("SHA-256")
                .digest(TestPki.get().serverCertChain()[0].getEncoded()));
        int wsPort = freePort();
        int good = freePort();
        int bad = freePort();
        Path server = dir.resolve("server.yaml");
        Files.writeString(server, """
                services:
                - name: ws-in
                  addr: 127.0.0.1:%1$d
                  handler: {type: vless, auth: {username: %2$s}}
                  listener:
                    transport: {type: ws, path: /ws}
                    tls: {enabled: true, certificate_path: %3$s/cert.pem, key_path: %3$s/key.pem}
                """.formatted(wsPort, UUID, dir));
        Path client = dir.resolve("client.yaml");
        String chain = """
                - name: %1$s
                  hops:
                  - name: h
                    nodes:
                    - name: n
                      addr: 127.0.0.1:%2$d
                      connector: {type: vless, auth: {username: %3$s}}
                      dialer:
                        streamSettings:
                          network: ws
                          wsSettings: {path: "/ws?ed=2048"}
                          security: tls
                          tlsSettings: {serverName: localhost, pinnedPeerCertSha256: "%4$s", fingerprint: unsafe}
                """;
        Files.writeString(client, """
                services:
                - {name: good, addr: 127.0.0.1:%1$d, handler: {type: tcp, chain: good},
                   forwarder: {nodes: [{name: e, addr: 127.0.0.1:%3$d}]}}
                - {name: bad, addr: 127.0.0.1:%2$d, handler: {type: tcp, chain: bad},
                   forwarder: {nodes: [{name: e, addr: 127.0.0.1:%3$d}]}}
                chains:
                """.formatted(good, bad, echo.port())
                + chain.formatted("good", wsPort, UUID, pin)
                + chain.formatted("bad", wsPort, UUID, "00".repeat(32)));
        Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
        try (Launcher s = new Launcher(TransportRegistry.defaultRegistry());
             Launcher c = new Launcher(TransportRegistry.defaultRegistry())) {
            s.start(ConfigFile.load(server.toString(), schemes));
            c.start(ConfigFile.load(client.toString(), schemes));
            roundTrip(good);
            try (Socket sock = new Socket("127.0.0.1", bad)) {
                sock.setSoTimeout(30_000);
                sock.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                assertEquals(-1, sock.getInputStream().read(), "a wrong pin must fail the tunnel");
            }
        }
    }

    /** A small first message (rides as early data on ws), then 4 MiB, echoed and checked. */
    private static void roundTrip(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] hello = "hello through the peers' configs".getBytes(StandardCharsets.US_ASCII);
            out.write(hello);
            out.flush();
            assertArrayEquals(hello, in.readNBytes(hello.length), "first message on port " + port);
            byte[] data = Digests.randomBytes(4 * 1024 * 1024, port);
            Thread writer = new Thread(() -> {
                try {
                    out.write(data);
                    out.flush();
                } catch (Exception e) {
                    // the read side reports the failure
                }
            });
            writer.start();
            byte[] got = in.readNBytes(data.length);
            assertEquals(data.length, got.length);
            assertArrayEquals(Digests.sha256(data), Digests.sha256(got));
            writer.join(10_000);
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
