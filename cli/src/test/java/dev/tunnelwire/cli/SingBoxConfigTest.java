package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.testkit.TestPki;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.ws.WsOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sing-box {@code transport}/{@code tls} objects on a tunnelwire listener or dialer: every such snippet of
 * peer-singbox.md section 7 (7.1 server inbounds, 7.2 client outbounds), checked field by field.
 */
class SingBoxConfigTest extends PeerConfigTestBase {

    // ---------------------------------------------------------------- sing-box 7.1: server inbounds

    @Test
    void singBoxServerHttp() throws Exception {
        Specs.Service s = listener("{\"transport\": { \"type\": \"http\", \"path\": \"/h\", \"method\": \"PUT\" }}");
        assertEquals("sing-box", s.peer().style());
        assertEquals("v2rayhttp", s.transport());
        HttpOptions o = assertInstanceOf(HttpOptions.class, s.peer().options());
        assertEquals("/h", o.path());
        assertEquals("PUT", o.method());
        assertEquals(List.of(), o.hosts());
        assertEquals(Map.of(), o.headers());
        assertNull(s.peer().serverTls());
        assertNull(s.tls());
        assertEquals(Map.of(), s.listenerParams());
        assertEquals("vless", s.handler());
    }

    @Test
    void singBoxServerWsHeaderEarlyData() throws Exception {
        Specs.Service s = listener("{\"transport\": { \"type\": \"ws\", \"path\": \"/ws\", \"max_early_data\": 2048,"
                + " \"early_data_header_name\": \"Sec-WebSocket-Protocol\" }}");
        WsOptions o = assertInstanceOf(WsOptions.class, s.peer().options());
        assertEquals("ws", s.transport());
        assertEquals("/ws", o.path());
        assertEquals(WsOptions.EarlyData.HEADER, o.earlyData());
        assertEquals(2048, o.maxEarlyData());
        assertEquals("Sec-WebSocket-Protocol", o.earlyDataHeader());
        assertEquals(WsOptions.TextFrames.DISCARD, o.textFrames(), "sing-box drops text frames");
        assertEquals(Map.of(), o.headers());
        assertNull(o.host());
    }

    @Test
    void singBoxServerWsPathEarlyData() throws Exception {
        WsOptions o = (WsOptions) listener("{\"transport\": { \"type\": \"ws\", \"path\": \"/ws\", "
                + "\"max_early_data\": 2048 }}").peer().options();
        assertEquals("/ws", o.path());
        assertEquals(WsOptions.EarlyData.PATH, o.earlyData());
        assertEquals(2048, o.maxEarlyData());
    }

    @Test
    void singBoxServerWsHeaderNameWithoutSizeStillReadsTheHeader() throws Exception {
        WsOptions o = (WsOptions) listener("{\"transport\": {\"type\": \"ws\", \"path\": \"/ws\", "
                + "\"early_data_header_name\": \"X-Ed\"}}").peer().options();
        assertEquals(WsOptions.EarlyData.HEADER, o.earlyData());
        assertEquals("X-Ed", o.earlyDataHeader());
    }

    @Test
    void singBoxServerHttpUpgrade() throws Exception {
        HttpUpgradeOptions o = (HttpUpgradeOptions) listener("{\"transport\": { \"type\": \"httpupgrade\", "
                + "\"host\": \"\", \"path\": \"/up\" }}").peer().options();
        assertEquals("/up", o.path());
        assertNull(o.host(), "an empty host checks nothing");
        assertEquals(HttpUpgradeOptions.EarlyData.NONE, o.earlyData());
    }

    @Test
    void singBoxServerGrpc() throws Exception {
        Specs.Service s = listener("{\"transport\": { \"type\": \"grpc\", \"service_name\": \"TunService\" }}");
        GrpcOptions o = assertInstanceOf(GrpcOptions.class, s.peer().options());
        assertEquals("grpc", s.transport());
        assertEquals(GrpcOptions.Flavour.GUN, o.flavour());
        assertEquals("TunService", o.serviceName());
        assertFalse(o.customPathSyntax(), "sing-box has no custom path syntax");
        assertFalse(o.multi());
        assertEquals(Duration.ZERO, o.h2().idleTimeout());
    }

    @Test
    void singBoxServerTlsVariants() throws Exception {
        String tls = "\"tls\": { \"enabled\": true, \"server_name\": \"localhost\", "
                + "\"certificate_path\": \"certs/cert.pem\", \"key_path\": \"certs/key.pem\" }";
        Specs.Service http = listener("{" + tls + ", \"transport\": { \"type\": \"http\", "
                + "\"host\": [\"www.example.com\"], \"path\": \"/h\" }}");
        assertEquals(List.of("www.example.com"), ((HttpOptions) http.peer().options()).hosts());
        TlsServerOptions t = http.peer().serverTls();
        assertEquals(cert, t.certFile());
        assertEquals(key, t.keyFile());
        assertEquals(List.of(), t.alpn(), "the transport's default ALPN applies");

        Specs.Service ws = listener("{" + tls + ", \"transport\": { \"type\": \"ws\", \"path\": \"/ws\", "
                + "\"max_early_data\": 2048, \"early_data_header_name\": \"Sec-WebSocket-Protocol\" }}");
        assertEquals(cert, ws.peer().serverTls().certFile());
        assertEquals(WsOptions.EarlyData.HEADER, ((WsOptions) ws.peer().options()).earlyData());

        Specs.Service hu = listener("{" + tls + ", \"transport\": { \"type\": \"httpupgrade\", \"path\": \"/up\" }}");
        assertEquals("/up", ((HttpUpgradeOptions) hu.peer().options()).path());
        assertEquals(key, hu.peer().serverTls().keyFile());

        Specs.Service grpc = listener("{" + tls + ", \"transport\": { \"type\": \"grpc\", "
                + "\"service_name\": \"TunService\" }}");
        assertEquals("TunService", ((GrpcOptions) grpc.peer().options()).serviceName());
        assertEquals(cert, grpc.peer().serverTls().certFile());
    }

    @Test
    void singBoxInboundTlsInlineAndAlpn() throws Exception {
        String certPem = Files.readString(cert).strip().replace("\n", "\\n");
        String keyPem = Files.readString(key).strip().replace("\n", "\\n");
        Specs.Service s = listener("{\"transport\": {\"type\": \"httpupgrade\"}, \"tls\": {\"enabled\": true, "
                + "\"alpn\": \"http/1.1\", \"min_version\": \"1.2\", \"max_version\": \"1.3\", "
                + "\"certificate\": \"" + certPem + "\", \"key\": [\"" + keyPem + "\"]}}");
        TlsServerOptions t = s.peer().serverTls();
        assertEquals(List.of("http/1.1"), t.alpn());
        assertEquals(TestPki.get().serverCertChain()[0], t.certChain().get(0));
        assertEquals(TestPki.get().serverKey(), t.key());
    }

    @Test
    void singBoxDisabledTlsIsCleartext() throws Exception {
        Specs.Service s = listener("{\"transport\": {\"type\": \"ws\"}, \"tls\": {\"enabled\": false}}");
        assertNull(s.peer().serverTls());
    }

    // ---------------------------------------------------------------- sing-box 7.2: client outbounds

    @Test
    void singBoxClientHttp() throws Exception {
        Specs.Node n = dialer("{\"transport\": { \"type\": \"http\", \"path\": \"/h\" }}");
        assertEquals("v2rayhttp", n.transport());
        HttpOptions o = (HttpOptions) n.peer().options();
        assertEquals("/h", o.path());
        assertEquals("", o.method(), "the client sends PUT when none is set");
        assertNull(n.peer().clientTls());
        assertEquals("vless", n.connector());
        assertEquals(SB_UUID, n.user());
    }

    @Test
    void singBoxClientWsHeaderEarlyData() throws Exception {
        WsOptions o = (WsOptions) dialer("{\"transport\": { \"type\": \"ws\", \"path\": \"/ws\", "
                + "\"max_early_data\": 2048, \"early_data_header_name\": \"Sec-WebSocket-Protocol\" }}")
                .peer().options();
        assertEquals("/ws", o.path());
        assertEquals(WsOptions.EarlyData.HEADER, o.earlyData());
        assertEquals(2048, o.maxEarlyData());
        assertEquals("Sec-WebSocket-Protocol", o.earlyDataHeader());
        assertEquals(WsOptions.DEFAULT_USER_AGENT, o.userAgent());
    }

    @Test
    void singBoxClientWsPathEarlyDataAndNone() throws Exception {
        WsOptions path = (WsOptions) dialer("{\"transport\": {\"type\": \"ws\", \"path\": \"/ws\", "
                + "\"max_early_data\": 1024}}").peer().options();
        assertEquals(WsOptions.EarlyData.PATH, path.earlyData());
        assertEquals(1024, path.maxEarlyData());
        WsOptions none = (WsOptions) dialer("{\"transport\": {\"type\": \"ws\"}}").peer().options();
        assertEquals(WsOptions.EarlyData.NONE, none.earlyData());
        assertEquals("/", none.path());
    }

    @Test
    void singBoxClientHttpUpgradeHostDefaultsToServerAddressWithPort() throws Exception {
        HttpUpgradeOptions o = (HttpUpgradeOptions) dialer("{\"transport\": { \"type\": \"httpupgrade\", "
                + "\"path\": \"/up\" }}").peer().options();
        assertEquals("/up", o.path());
        assertEquals("127.0.0.1:20001", o.host());
    }

    @Test
    void singBoxClientGrpc() throws Exception {
        GrpcOptions o = (GrpcOptions) dialer("{\"transport\": { \"type\": \"grpc\", \"service_name\": "
                + "\"TunService\" }}").peer().options();
        assertEquals("TunService", o.serviceName());
        assertEquals(GrpcOptions.Flavour.GUN, o.flavour());
        assertFalse(o.customPathSyntax());
        assertEquals("127.0.0.1:20001", o.authority());
    }

    @Test
    void singBoxClientTlsVariants() throws Exception {
        String tls = "\"tls\": { \"enabled\": true, \"server_name\": \"localhost\", \"insecure\": true }";
        Specs.Node http = dialer("{" + tls + ", \"transport\": { \"type\": \"http\", \"path\": \"/h\" }}");
        TlsClientOptions t = http.peer().clientTls();
        assertEquals("localhost", t.serverName());
        assertTrue(t.insecure());
        assertEquals(List.of(), t.alpn());
        assertNull(t.caFile());

        Specs.Node ws = dialer("{" + tls + ", \"transport\": { \"type\": \"ws\", \"path\": \"/ws\", "
                + "\"headers\": { \"Host\": \"localhost\" }, \"max_early_data\": 2048, "
                + "\"early_data_header_name\": \"Sec-WebSocket-Protocol\" }}");
        WsOptions w = (WsOptions) ws.peer().options();
        assertEquals(Map.of("Host", "localhost"), w.headers());
        assertEquals(WsOptions.EarlyData.HEADER, w.earlyData());
        assertTrue(ws.peer().clientTls().insecure());

        Specs.Node hu = dialer("{" + tls + ", \"transport\": { \"type\": \"httpupgrade\", \"path\": \"/up\" }}");
        assertEquals("localhost", ((HttpUpgradeOptions) hu.peer().options()).host(),
                "sing-box: the TLS server name when no host is set");

        Specs.Node grpc = dialer("{" + tls + ", \"transport\": { \"type\": \"grpc\", "
                + "\"service_name\": \"TunService\" }}");
        assertEquals("localhost:20001", ((GrpcOptions) grpc.peer().options()).authority());
        assertEquals("localhost", grpc.peer().clientTls().serverName());
    }

    @Test
    void singBoxClientTlsCertificatePathAndTimeouts() throws Exception {
        Specs.Node n = dialer("{\"transport\": {\"type\": \"grpc\", \"service_name\": \"a/b\", "
                + "\"idle_timeout\": \"1m30s\", \"ping_timeout\": \"500ms\", \"permit_without_stream\": true}, "
                + "\"tls\": {\"enabled\": true, \"server_name\": \"localhost\", \"certificate_path\": "
                + "\"certs/ca.pem\", \"alpn\": [\"h2\"]}}");
        GrpcOptions o = (GrpcOptions) n.peer().options();
        assertEquals("a/b", o.serviceName());
        assertEquals(Duration.ofSeconds(90), o.h2().idleTimeout());
        assertEquals(Duration.ofMillis(500), o.h2().pingTimeout());
        TlsClientOptions t = n.peer().clientTls();
        assertEquals(dir.resolve("certs/ca.pem"), t.caFile());
        assertFalse(t.insecure(), "sing-box verifies unless insecure");
        assertEquals(List.of("h2"), t.alpn());
    }

    @Test
    void singBoxHttpHeadersAndHosts() throws Exception {
        HttpOptions o = (HttpOptions) dialer("{\"transport\": {\"type\": \"http\", \"host\": \"a.example\", "
                + "\"headers\": {\"X-A\": [\"1\", \"2\"], \"X-B\": \"3\"}, \"idle_timeout\": \"15s\"}}")
                .peer().options();
        assertEquals(List.of("a.example"), o.hosts());
        assertEquals(Map.of("X-A", List.of("1", "2"), "X-B", List.of("3")), o.headers());
        assertEquals(Duration.ofSeconds(15), o.h2().idleTimeout());
    }
}
