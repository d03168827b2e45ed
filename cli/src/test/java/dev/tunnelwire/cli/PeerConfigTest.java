package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.testkit.TestPki;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.httpupgrade.HttpUpgradeOptions;
import dev.tunnelwire.transport.ws.WsOptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sing-box {@code transport}/{@code tls} and Xray {@code streamSettings} objects in a tunnelwire config file: every
 * such snippet of peer-singbox.md section 7 and peer-xray.md section 8, put on a listener or dialer and checked field
 * by field; and the errors (unknown field, wrong type, unsupported feature, mixed styles) with their exact text.
 */
class PeerConfigTest {

    private static final String SB_UUID = "b831381d-6324-4d53-ad4f-8cda48b30811";

    @TempDir
    Path dir;
    private final Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
    private Path cert;
    private Path key;

    @BeforeEach
    void pki() {
        Path certs = dir.resolve("certs");
        TestPki.get().writePem(certs);
        cert = certs.resolve("cert.pem");
        key = certs.resolve("key.pem");
    }

    // ---------------------------------------------------------------- helpers

    private Path write(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text.replace("certs/", dir.resolve("certs") + "/"));
        return f;
    }

    /** A service whose listener is the given YAML/JSON flow mapping. */
    private Specs.Service listener(String listener) throws Exception {
        Path f = write("server.yaml", "services:\n- name: s\n  addr: 127.0.0.1:20001\n"
                + "  handler: {type: vless, auth: {username: " + SB_UUID + "}}\n  listener: " + listener + "\n");
        Specs.Config c = ConfigFile.load(f.toString(), schemes);
        return c.services().get(0);
    }

    /** A node whose dialer is the given YAML/JSON flow mapping. */
    private Specs.Node dialer(String dialer) throws Exception {
        Path f = write("client.yaml", "chains:\n- name: c\n  hops:\n  - name: h\n    nodes:\n    - name: n\n"
                + "      addr: 127.0.0.1:20001\n      connector: {type: vless, auth: {username: " + SB_UUID + "}}\n"
                + "      dialer: " + dialer + "\n");
        return ConfigFile.load(f.toString(), schemes).chains().get(0).hops().get(0);
    }

    private String loadError(String name, String text) throws Exception {
        Path f = write(name, text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigFile.load(f.toString(), schemes));
        String prefix = f + ":";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        return e.getMessage().substring(prefix.length());
    }

    private String listenerError(String listener) throws Exception {
        return loadError("server.yaml", "services:\n- name: s\n  addr: 127.0.0.1:20001\n  handler: {type: http}\n"
                + "  listener: " + listener + "\n");
    }

    private String dialerError(String dialer) throws Exception {
        return loadError("client.yaml", "chains:\n- name: c\n  hops:\n  - name: h\n    nodes:\n    - name: n\n"
                + "      addr: 127.0.0.1:20001\n      connector: {type: http}\n      dialer: " + dialer + "\n");
    }

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
