package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.testkit.TestPki;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.ws.WsOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Xray {@code streamSettings} objects on a tunnelwire listener or dialer: every such snippet of peer-xray.md section 8
 * (8.1/8.2 server inbounds, 8.3/8.4 client outbounds and the tunnel inbound), checked field by field.
 */
class XrayConfigTest extends PeerConfigTestBase {

    // ---------------------------------------------------------------- Xray 8.1/8.2: server inbounds

    @Test
    void xrayServerHttpUpgrade() throws Exception {
        Specs.Service s = listener("{\"streamSettings\": {\"network\": \"httpupgrade\", \"security\": \"none\", "
                + "\"httpupgradeSettings\": {\"path\": \"/hu\"}}}");
        assertEquals("xray", s.peer().style());
        assertEquals("httpupgrade", s.transport());
        HttpUpgradeOptions o = (HttpUpgradeOptions) s.peer().options();
        assertEquals("/hu", o.path());
        assertNull(o.host());
        assertNull(s.peer().serverTls());
        assertFalse(s.peer().acceptProxyProtocol());
    }

    @Test
    void xrayServerWs() throws Exception {
        Specs.Service s = listener("{\"streamSettings\": {\"network\": \"ws\", \"security\": \"none\", "
                + "\"wsSettings\": {\"path\": \"/ws\"}}}");
        WsOptions o = (WsOptions) s.peer().options();
        assertEquals("/ws", o.path());
        assertEquals(WsOptions.EarlyData.NONE, o.earlyData(), "accepts Xray's early data without configuration");
        assertEquals(WsOptions.TextFrames.DATA, o.textFrames());
    }

    @Test
    void xrayServerGrpc() throws Exception {
        Specs.Service s = listener("{\"streamSettings\": {\"network\": \"grpc\", \"security\": \"none\", "
                + "\"grpcSettings\": {\"serviceName\": \"gunsvc\"}}}");
        GrpcOptions o = (GrpcOptions) s.peer().options();
        assertEquals("gunsvc", o.serviceName());
        assertTrue(o.customPathSyntax());
        assertEquals(GrpcOptions.Flavour.GUN, o.flavour());
    }

    @Test
    void xrayServerXhttpIsNotSupported() throws Exception {
        assertEquals("5:44: services[0].listener.streamSettings.network: not supported by tunnelwire: XHTTP",
                listenerError("{\"streamSettings\": {\"network\": \"xhttp\", \"security\": \"none\", "
                        + "\"xhttpSettings\": {\"path\": \"/xh\", \"mode\": \"auto\"}}}"));
    }

    @Test
    void xrayServerTls() throws Exception {
        String tls = "\"security\": \"tls\", \"tlsSettings\": {\"alpn\": [\"http/1.1\"], \"certificates\": "
                + "[{\"certificateFile\": \"certs/cert.pem\", \"keyFile\": \"certs/key.pem\"}]}";
        for (String net : List.of("\"network\": \"httpupgrade\", \"httpupgradeSettings\": {\"path\": \"/hu\"}",
                "\"network\": \"ws\", \"wsSettings\": {\"path\": \"/ws\"}")) {
            Specs.Service s = listener("{\"streamSettings\": {" + net + ", " + tls + "}}");
            TlsServerOptions t = s.peer().serverTls();
            assertEquals(cert, t.certFile());
            assertEquals(key, t.keyFile());
            assertEquals(List.of("http/1.1"), t.alpn());
        }
        // gRPC: alpn omitted, the server forces h2
        Specs.Service g = listener("{\"streamSettings\": {\"network\": \"grpc\", \"grpcSettings\": {\"serviceName\":"
                + " \"gunsvc\"}, \"security\": \"tls\", \"tlsSettings\": {\"certificates\": [{\"certificateFile\": "
                + "\"certs/cert.pem\", \"keyFile\": \"certs/key.pem\"}]}}}");
        assertEquals(List.of(), g.peer().serverTls().alpn());
        assertEquals(cert, g.peer().serverTls().certFile());
    }

    @Test
    void xrayServerInlineCertificateAndProxyProtocol() throws Exception {
        StringBuilder c = new StringBuilder();
        for (String line : Files.readString(cert).strip().split("\n")) {
            c.append(c.length() == 0 ? "" : ", ").append('"').append(line).append('"');
        }
        StringBuilder k = new StringBuilder();
        for (String line : Files.readString(key).strip().split("\n")) {
            k.append(k.length() == 0 ? "" : ", ").append('"').append(line).append('"');
        }
        Specs.Service s = listener("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"path\": "
                + "\"/ws?ed=2048\", \"acceptProxyProtocol\": true}, \"security\": \"tls\", \"tlsSettings\": "
                + "{\"certificates\": [{\"certificate\": [" + c + "], \"key\": [" + k + "], \"usage\": "
                + "\"encipherment\", \"oneTimeLoading\": true}], \"minVersion\": \"1.2\"}}}");
        assertTrue(s.peer().acceptProxyProtocol());
        WsOptions o = (WsOptions) s.peer().options();
        assertEquals("/ws", o.path(), "?ed= is parsed out of the path, as Xray does on both sides");
        assertEquals(TestPki.get().serverKey(), s.peer().serverTls().key());
        assertEquals(TestPki.get().serverCertChain()[0], s.peer().serverTls().certChain().get(0));
    }

    // ---------------------------------------------------------------- Xray 8.3/8.4: client outbounds, tunnel

    @Test
    void xrayClientHttpUpgrade() throws Exception {
        HttpUpgradeOptions o = (HttpUpgradeOptions) dialer("{\"streamSettings\": {\"network\": \"httpupgrade\", "
                + "\"httpupgradeSettings\": {\"path\": \"/hu\", \"host\": \"127.0.0.1\"}}}").peer().options();
        assertEquals("/hu", o.path());
        assertEquals("127.0.0.1", o.host());
        assertEquals(HttpUpgradeOptions.EarlyData.NONE, o.earlyData());
    }

    @Test
    void xrayClientHttpUpgradeEd() throws Exception {
        HttpUpgradeOptions o = (HttpUpgradeOptions) dialer("{\"streamSettings\": {\"network\": \"httpupgrade\", "
                + "\"httpupgradeSettings\": {\"path\": \"/hu?ed=2048\"}}}").peer().options();
        assertEquals("/hu", o.path());
        assertEquals(HttpUpgradeOptions.EarlyData.XRAY_ED, o.earlyData());
        assertNull(o.host(), "Xray: the TLS server name, else the address without port");
    }

    @Test
    void xrayClientWsEd() throws Exception {
        Specs.Node n = dialer("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"path\": \"/ws?ed=2048\","
                + " \"heartbeatPeriod\": 0}}}");
        WsOptions o = (WsOptions) n.peer().options();
        assertEquals("/ws", o.path());
        assertEquals(WsOptions.EarlyData.XRAY, o.earlyData());
        assertEquals(2048, o.maxEarlyData());
        assertEquals(WsOptions.TextFrames.DATA, o.textFrames());
        assertEquals("127.0.0.1", o.host(), "Xray: the address without port");
        assertNull(n.peer().clientTls());
    }

    @Test
    void xrayClientGunAndMulti() throws Exception {
        GrpcOptions gun = (GrpcOptions) dialer("{\"streamSettings\": {\"network\": \"grpc\", \"grpcSettings\": "
                + "{\"serviceName\": \"gunsvc\", \"multiMode\": false}}}").peer().options();
        assertEquals("gunsvc", gun.serviceName());
        assertFalse(gun.multi());
        assertTrue(gun.customPathSyntax());
        assertNull(gun.authority(), "Xray's rule: TLS server name, else host");
        assertNull(gun.userAgent(), "the flavour's default: Xray's Chrome user agent");
        GrpcOptions multi = (GrpcOptions) dialer("{\"streamSettings\": {\"network\": \"grpc\", \"grpcSettings\": "
                + "{\"serviceName\": \"gunsvc\", \"multiMode\": true}}}").peer().options();
        assertTrue(multi.multi(), "multiMode calls TunMulti");
    }

    @Test
    void xrayClientGrpcKeepaliveAndAgent() throws Exception {
        GrpcOptions o = (GrpcOptions) dialer("{\"streamSettings\": {\"network\": \"grpc\", \"grpcSettings\": "
                + "{\"serviceName\": \"/my/sample/path1\", \"authority\": \"cdn.example\", \"idle_timeout\": 60, "
                + "\"health_check_timeout\": 20, \"permit_without_stream\": true, \"initial_windows_size\": 65536, "
                + "\"user_agent\": \"golang\"}}}").peer().options();
        assertEquals("/my/sample/path1", o.serviceName());
        assertEquals("cdn.example", o.authority());
        assertEquals(Duration.ofSeconds(60), o.h2().idleTimeout());
        assertEquals(Duration.ofSeconds(20), o.h2().pingTimeout());
        assertEquals(65536, o.h2().streamWindow());
        assertEquals("", o.userAgent());
    }

    @Test
    void xrayClientXhttpIsNotSupported() throws Exception {
        assertEquals("9:46: chains[0].hops[0].nodes[0].dialer.streamSettings.network: not supported by tunnelwire:"
                + " XHTTP", dialerError("{\"streamSettings\": {\"network\": \"xhttp\", \"xhttpSettings\": "
                + "{\"path\": \"/xh\", \"mode\": \"packet-up\"}}}"));
    }

    @Test
    void xrayClientTlsVariantFromTheSpec() throws Exception {
        // peer-xray.md 8.3: serverName + pinnedPeerCertSha256 + fingerprint "unsafe"
        String pin = "AB:CD:" + "01".repeat(30);
        Specs.Node n = dialer("{\"streamSettings\": {\"network\": \"ws\", \"wsSettings\": {\"path\": \"/ws?ed=2048\"}, "
                + "\"security\": \"tls\", \"tlsSettings\": {\"serverName\": \"localhost\", \"pinnedPeerCertSha256\": \""
                + pin + ", " + "ef".repeat(32) + "\", \"fingerprint\": \"unsafe\"}}}");
        TlsClientOptions t = n.peer().clientTls();
        assertEquals("localhost", t.serverName());
        assertEquals(List.of("abcd" + "01".repeat(30), "ef".repeat(32)), t.pinnedSha256());
        assertEquals("localhost", ((WsOptions) n.peer().options()).host(), "Xray: the TLS serverName");
        assertFalse(t.insecure());
        assertEquals(List.of(), t.trusted());
        assertEquals(WsOptions.EarlyData.XRAY, ((WsOptions) n.peer().options()).earlyData());
    }

    @Test
    void xrayPinMustBeASha256() throws Exception {
        assertEquals("9:138: chains[0].hops[0].nodes[0].dialer.streamSettings.tlsSettings.pinnedPeerCertSha256: "
                        + "'ab' is not the hex SHA-256 of a certificate (32 bytes, colons allowed)",
                dialerError("{\"streamSettings\": {\"network\": \"ws\", \"security\": \"tls\", \"tlsSettings\": "
                        + "{\"serverName\": \"localhost\", \"pinnedPeerCertSha256\": \"ab\", "
                        + "\"fingerprint\": \"unsafe\"}}}"));
    }

    @Test
    void xrayClientTlsWithTrustedCertificate() throws Exception {
        Specs.Node n = dialer("{\"streamSettings\": {\"network\": \"ws\", \"security\": \"tls\", \"tlsSettings\": "
                + "{\"serverName\": \"localhost\", \"fingerprint\": \"unsafe\", \"alpn\": \"http/1.1\", "
                + "\"certificates\": [{\"certificateFile\": \"certs/ca.pem\", \"usage\": \"verify\"}]}}}");
        TlsClientOptions t = n.peer().clientTls();
        assertEquals("localhost", t.serverName());
        assertFalse(t.insecure());
        assertEquals(List.of(TestPki.get().caCertificate()), t.trusted());
        assertEquals(List.of("http/1.1"), t.alpn());
    }

    @Test
    void xrayTunnelInboundWs() throws Exception {
        // peer-xray.md 8.4: a tunnel (dokodemo) inbound is gost's forward handler here
        Path f = write("tunnel.yaml", """
                services:
                - name: tun-ws
                  addr: 127.0.0.1:20010
                  handler: {type: forward}
                  listener: {"streamSettings": {"network": "ws", "wsSettings": {"path": "/raw"}}}
                  forwarder: {nodes: [{name: t, addr: 127.0.0.1:9000}]}
                """);
        Specs.Service s = ConfigFile.load(f.toString(), schemes).services().get(0);
        assertEquals("forward", s.handler());
        assertEquals(List.of("127.0.0.1:9000"), s.targets());
        assertEquals("/raw", ((WsOptions) s.peer().options()).path());
    }

    @Test
    void xrayRawNetworkIsTcp() throws Exception {
        Specs.Service s = listener("{\"streamSettings\": {\"security\": \"tls\", \"tlsSettings\": {\"certificates\":"
                + " [{\"certificateFile\": \"certs/cert.pem\", \"keyFile\": \"certs/key.pem\"}]}}}");
        assertEquals("tcp", s.transport());
        assertEquals(cert, s.peer().serverTls().certFile());
    }
}
