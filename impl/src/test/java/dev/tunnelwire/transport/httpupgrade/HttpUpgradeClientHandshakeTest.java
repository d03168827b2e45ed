package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.tunnelwire.transport.httpupgrade.HttpUpgradeServerHandshakeTest.RESPONSE_101;
import static dev.tunnelwire.transport.httpupgrade.HttpUpgradeServerHandshakeTest.SINGBOX_REQUEST;
import static dev.tunnelwire.transport.httpupgrade.HttpUpgradeServerHandshakeTest.XRAY_REQUEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client handshake over an {@link EmbeddedChannel} carrier ({@code openOver}): the exact request bytes Xray and
 * sing-box send, early data in its three modes, the peers' 101 variants, leftover bytes, and every failure.
 */
class HttpUpgradeClientHandshakeTest {

    private static final InetSocketAddress SERVER = InetSocketAddress.createUnresolved("127.0.0.1", 8080);
    private static TunnelRuntime runtime;
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @BeforeAll
    static void start() {
        runtime = TunnelRuntime.create(1);
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    @AfterEach
    void finish() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    private record Dial(EmbeddedChannel ch, Future<Channel> future, HttpUpgradeServerHandshakeTest.Tunnel tunnel) {
    }

    private Dial dial(HttpUpgradeOptions options, ByteBuf firstPayload) {
        return dial(DialerConfig.of(SERVER), options, firstPayload);
    }

    private Dial dial(DialerConfig config, HttpUpgradeOptions options, ByteBuf firstPayload) {
        EmbeddedChannel ch = new EmbeddedChannel();
        channels.add(ch);
        HttpUpgradeServerHandshakeTest.Tunnel tunnel = new HttpUpgradeServerHandshakeTest.Tunnel();
        HttpUpgradeDialer dialer = new HttpUpgradeDialer(runtime, config, options);
        Future<Channel> f = dialer.openOver(ch, firstPayload, (t, info) -> {
            tunnel.info = info;
            t.pipeline().addLast(tunnel);
        });
        ch.runPendingTasks();
        return new Dial(ch, f, tunnel);
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static List<String> outboundMessages(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            if (b.isReadable()) {
                out.add(b.toString(StandardCharsets.ISO_8859_1));
            }
            b.release();
        }
        return out;
    }

    private static Throwable failure(Future<Channel> f) throws InterruptedException {
        assertTrue(f.await(5, TimeUnit.SECONDS));
        assertFalse(f.isSuccess());
        return f.cause();
    }

    @Test
    void defaultRequestIsByteForByteWhatSingBoxSends() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().path("up").host("example.com").build(), null);
        assertEquals(List.of(SINGBOX_REQUEST), outboundMessages(d.ch));
        d.ch.writeInbound(ascii(RESPONSE_101));
        assertTrue(d.future.await(5, TimeUnit.SECONDS));
        assertTrue(d.future.isSuccess());
        assertNull(d.ch.pipeline().get(HttpUpgradeProtocol.CODEC));
        assertNull(d.ch.pipeline().get(HttpUpgradeProtocol.HANDSHAKE));
        assertEquals("example.com", d.tunnel.info.authority());
        d.ch.writeOutbound(ascii("raw"));
        assertEquals(List.of("raw"), outboundMessages(d.ch));
    }

    @Test
    void xrayBrowserHeadersAreWrittenInGoOrderWithTheirSpelling() {
        Map<String, String> chrome = new LinkedHashMap<>();
        // deliberately not sorted: the request is
        chrome.put("Sec-Fetch-Site", "same-origin");
        chrome.put("Sec-CH-UA", "\"Chromium\";v=\"144\", \"Not(A:Brand\";v=\"24\", \"Google Chrome\";v=\"144\"");
        chrome.put("Accept", "*/*");
        chrome.put("Sec-CH-UA-Platform", "\"Windows\"");
        chrome.put("DNT", "1");
        chrome.put("Sec-Fetch-Mode", "websocket");
        chrome.put("Accept-Language", "en-US,en;q=0.9");
        chrome.put("Pragma", "no-cache");
        chrome.put("Sec-CH-UA-Mobile", "?0");
        chrome.put("Sec-Fetch-Dest", "empty");
        chrome.put("Cache-Control", "no-cache");
        Dial d = dial(HttpUpgradeOptions.builder().path("/hu?ed=2048").headers(chrome)
                .userAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        + "Chrome/144.0.0.0 Safari/537.36").build(), null);
        assertEquals(List.of(XRAY_REQUEST), outboundMessages(d.ch));
    }

    @Test
    void headerCaseIsKeptAndUppercaseSortsFirst() {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").header("x-lower", "1").header("WebSocket-Thing", "2")
                .header("user-agent", "custom/1").build(), null);
        assertEquals(List.of("GET / HTTP/1.1\r\nHost: h\r\nuser-agent: custom/1\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\nWebSocket-Thing: 2\r\nx-lower: 1\r\n\r\n"), outboundMessages(d.ch));
    }

    @Test
    void emptyUserAgentSendsNone() {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").userAgent("").build(), null);
        assertEquals(List.of("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
                outboundMessages(d.ch));
    }

    @Test
    void xrayEarlyDataFollowsTheHeadInASeparateWriteWithoutWaiting() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().path("/hu?ed=2048").host("h").build(), ascii("VLESS-HEADER"));
        List<String> out = outboundMessages(d.ch);
        assertEquals(2, out.size(), "head and payload are two writes: " + out);
        assertTrue(out.get(0).startsWith("GET /hu HTTP/1.1\r\n") && out.get(0).endsWith("\r\n\r\n"));
        assertEquals("VLESS-HEADER", out.get(1));
        assertFalse(d.future.isDone(), "the tunnel opens at the 101");
        d.ch.writeInbound(ascii(RESPONSE_101));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
        assertEquals(List.of(), outboundMessages(d.ch), "the payload is not sent twice");
    }

    @Test
    void withoutEarlyDataTheFirstPayloadWaitsForThe101() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), ascii("first"));
        List<String> out = outboundMessages(d.ch);
        assertEquals(1, out.size());
        d.ch.writeInbound(ascii(RESPONSE_101));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
        assertEquals(List.of("first"), outboundMessages(d.ch));
    }

    @Test
    void v2flyHeaderCarriesUpToMaxEarlyDataAndTheRestFollowsThe101() throws Exception {
        byte[] payload = new byte[3000];
        new Random(3).nextBytes(payload);
        Dial d = dial(HttpUpgradeOptions.builder().host("h").earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER)
                .earlyDataHeader("Sec-Early").build(), Unpooled.wrappedBuffer(payload));
        List<String> out = outboundMessages(d.ch);
        assertEquals(1, out.size());
        String head = out.get(0);
        String expected = Base64.getUrlEncoder().encodeToString(Arrays.copyOf(payload, 2048));
        assertTrue(head.contains("\r\nSec-Early: " + expected + "\r\nUpgrade: websocket\r\n\r\n"), head);
        d.ch.writeInbound(ascii(RESPONSE_101));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
        List<String> rest = outboundMessages(d.ch);
        assertEquals(1, rest.size());
        assertArrayEquals(Arrays.copyOfRange(payload, 2048, 3000), rest.get(0).getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void bytesBehindThe101InTheSameReadAreDeliveredAfterTheInitializer() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        outboundMessages(d.ch);
        d.ch.writeInbound(ascii(RESPONSE_101 + "server-first"));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
        assertEquals("server-first", d.tunnel.bytes.toString(StandardCharsets.ISO_8859_1));
        d.ch.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
        assertEquals("server-firstGET / HTTP/1.1\r\n\r\n", d.tunnel.bytes.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void singBoxResponseWithLowercaseValueAndDateIsAccepted() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        d.ch.writeInbound(ascii("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                + "Date: Sat, 21 Nov 2026 12:00:00 GMT\r\n\r\n"));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
    }

    @Test
    void anyReasonPhraseIsAccepted() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        d.ch.writeInbound(ascii("HTTP/1.1 101 Web Socket Protocol Handshake\r\nConnection: UPGRADE\r\n"
                + "Upgrade: WebSocket\r\n\r\n"));
        assertTrue(d.future.await(5, TimeUnit.SECONDS) && d.future.isSuccess());
    }

    @Test
    void notFoundFailsWithTheStatus() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), ascii("payload"));
        d.ch.writeInbound(ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
        HandshakeException e = assertInstanceOf(HandshakeException.class, failure(d.future));
        assertEquals(404, e.status());
        assertFalse(d.ch.isActive());
        assertNull(d.tunnel.info);
    }

    @Test
    void wrongUpgradeHeaderFails() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        d.ch.writeInbound(ascii("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"));
        HandshakeException e = assertInstanceOf(HandshakeException.class, failure(d.future));
        assertEquals(101, e.status());
    }

    @Test
    void connectionListFails() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        d.ch.writeInbound(ascii("HTTP/1.1 101 Switching Protocols\r\nConnection: keep-alive, Upgrade\r\n"
                + "Upgrade: websocket\r\n\r\n"));
        assertInstanceOf(HandshakeException.class, failure(d.future));
    }

    @Test
    void malformedResponseFails() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), null);
        d.ch.writeInbound(ascii("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
        assertInstanceOf(HandshakeException.class, failure(d.future));
        assertFalse(d.ch.isActive());
    }

    @Test
    void closeBeforeTheResponseFails() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").build(), ascii("payload"));
        d.ch.close();
        assertInstanceOf(HandshakeException.class, failure(d.future));
    }

    @Test
    void noResponseWithinTheTimeoutFails() throws Exception {
        Dial d = dial(HttpUpgradeOptions.builder().host("h").handshakeTimeout(Duration.ofSeconds(3)).build(), null);
        d.ch.advanceTimeBy(3, TimeUnit.SECONDS);
        d.ch.runScheduledPendingTasks();
        HandshakeException e = assertInstanceOf(HandshakeException.class, failure(d.future));
        assertTrue(e.getMessage().contains("3000 ms"), e.getMessage());
        assertFalse(d.ch.isActive());
    }

    @Test
    void hostHeaderFollowsXraysOrderAndNeverHasAPort() {
        HttpUpgradeOptions none = HttpUpgradeOptions.defaults();
        assertEquals("127.0.0.1", HttpUpgradeDialer.hostHeader(DialerConfig.of(SERVER), none));
        assertEquals("[::1]", HttpUpgradeDialer.hostHeader(
                DialerConfig.of(new InetSocketAddress("::1", 443)), none));
        TlsClientOptions tls = TlsClientOptions.builder().serverName("sni.example").build();
        assertEquals("sni.example", HttpUpgradeDialer.hostHeader(DialerConfig.of(SERVER, tls), none));
        assertEquals("cdn.example", HttpUpgradeDialer.hostHeader(DialerConfig.of(SERVER, tls),
                HttpUpgradeOptions.builder().host("cdn.example").build()));
    }
}
