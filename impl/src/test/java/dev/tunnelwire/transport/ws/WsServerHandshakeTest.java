package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listener's handshake and stream adapter on an {@link EmbeddedChannel}, driven by the exact request transcripts of
 * the peers' clients (peer-singbox.md §3.2-3.5, peer-xray.md §3.2-3.5, peer-gost.md §6.1-6.3).
 */
class WsServerHandshakeTest {

    /** RFC 6455 §1.3's example key and its accept value. */
    static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    /** Xray's example early data: the 26-byte VLESS header to 127.0.0.1:9000 plus "hello" (peer-xray.md §3.2). */
    static final String XRAY_ED = "ACeEhzl-YkE4n9MJimOWS2sAASMoAX8AAAFoZWxsbw";

    private EmbeddedChannel ch;
    private final List<Object> delivered = new ArrayList<>();
    private final AtomicReference<TunnelInfo> info = new AtomicReference<>();

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        delivered.forEach(io.netty.util.ReferenceCountUtil::release);
    }

    private EmbeddedChannel serve(WsOptions options) {
        ch = new EmbeddedChannel();
        WsListener l = new WsListener(TunnelRuntime.shared(),
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), options);
        l.serve(ch, (t, i) -> {
            info.set(i);
            t.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                    delivered.add(msg);
                }
            });
        });
        return ch;
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private String response() {
        StringBuilder b = new StringBuilder();
        for (ByteBuf o; (o = ch.readOutbound()) != null; ) {
            b.append(o.toString(StandardCharsets.US_ASCII));
            o.release();
        }
        return b.toString();
    }

    private byte[] outboundBytes() {
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf o; (o = ch.readOutbound()) != null; ) {
            all.writeBytes(o);
            o.release();
        }
        byte[] r = ByteBufUtil.getBytes(all);
        all.release();
        return r;
    }

    private String deliveredString() {
        StringBuilder b = new StringBuilder();
        for (Object o : delivered) {
            b.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
        }
        return b.toString();
    }

    private static ByteBuf maskedFrames(WebSocketFrame... frames) {
        EmbeddedChannel enc = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
        for (WebSocketFrame f : frames) {
            enc.writeOutbound(f);
        }
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf o; (o = enc.readOutbound()) != null; ) {
            all.writeBytes(o);
            o.release();
        }
        enc.finishAndReleaseAll();
        return all;
    }

    private static String upgrade(String path, String extra) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:10002\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n" + extra + "\r\n";
    }

    private static final String PLAIN_101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + "\r\n\r\n";

    @Test
    void singBoxClientTranscriptGetsTheExact101() {
        serve(WsOptions.builder().path("/ws").build());
        ch.writeInbound(ascii("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:10002\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n"
                + "User-Agent: Go-http-client/1.1\r\n\r\n"));
        assertEquals(PLAIN_101, response());
        assertEquals("127.0.0.1:10002", info.get().authority());
        assertEquals("/ws", info.get().path());
        assertEquals("ws", info.get().transport());
        assertEquals(List.of("tw-ws-frame-encoder", "tw-ws-frame-decoder", "tw-ws-adapter"),
                ch.pipeline().names().subList(0, 3));
        // A masked client frame "hello" (peer-singbox.md §3.5) arrives as plain bytes.
        ch.writeInbound(maskedFrames(new BinaryWebSocketFrame(ascii("hello"))));
        assertEquals("hello", deliveredString());
    }

    @Test
    void xrayClientTranscriptDeliversHeaderEarlyDataAndEchoesIt() {
        serve(WsOptions.defaults().toBuilder().path("/ws").build());
        String req = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                + "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/144.0.0.0 Safari/537.36\r\nAccept: */*\r\n"
                + "Accept-Language: en-US,en;q=0.9\r\nCache-Control: no-cache\r\nConnection: Upgrade\r\nDNT: 1\r\n"
                + "Pragma: no-cache\r\nSec-CH-UA: \"Chromium\";v=\"144\"\r\nSec-CH-UA-Mobile: ?0\r\n"
                + "Sec-CH-UA-Platform: \"Windows\"\r\nSec-Fetch-Dest: empty\r\nSec-Fetch-Mode: websocket\r\n"
                + "Sec-Fetch-Site: same-origin\r\nSec-WebSocket-Key: " + KEY + "\r\n"
                + "Sec-WebSocket-Protocol: " + XRAY_ED + "\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n";
        // The client pipelines a frame right behind its request (fragmented, as gorilla writes).
        ByteBuf in = ascii(req);
        in.writeBytes(maskedFrames(new BinaryWebSocketFrame(false, 0, ascii("wor")),
                new ContinuationWebSocketFrame(true, 0, ascii("ld"))));
        ch.writeInbound(in);
        assertEquals("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + ACCEPT + "\r\nSec-WebSocket-Protocol: " + XRAY_ED + "\r\n\r\n", response());
        byte[] vless = new byte[] {0, 0x27, (byte) 0x84, (byte) 0x87, 0x39, 0x7e, 0x62, 0x41, 0x38, (byte) 0x9f,
                (byte) 0xd3, 0x09, (byte) 0x8a, 0x63, (byte) 0x96, 0x4b, 0x6b, 0, 1, 0x23, 0x28, 1, 0x7f, 0, 0, 1};
        String expected = new String(vless, StandardCharsets.ISO_8859_1) + "hello" + "world";
        assertEquals(expected, deliveredString(), "early data first, then the pipelined frames");
    }

    @Test
    void gostClientTranscriptWithFragmentedFramesIsReassembled() {
        serve(WsOptions.builder().path("/ws").build());
        ch.writeInbound(ascii("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n"
                + "Upgrade: websocket\r\n\r\n"));
        assertEquals(PLAIN_101, response());
        byte[] big = new byte[10_000];
        new java.util.Random(1).nextBytes(big);
        ch.writeInbound(maskedFrames(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(big, 0, 4096)),
                new PingWebSocketFrame(ascii("p")),
                new ContinuationWebSocketFrame(false, 0, Unpooled.wrappedBuffer(big, 4096, 4096)),
                new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(big, 8192, 10_000 - 8192))));
        assertArrayEquals(big, deliveredString().getBytes(StandardCharsets.ISO_8859_1));
        // The ping between fragments was answered with an unmasked pong "p".
        assertArrayEquals(new byte[] {(byte) 0x8a, 1, 'p'}, outboundBytes());
    }

    @Test
    void singBoxPathEarlyDataIsAcceptedByDefaultAndInPathMode() {
        String b64 = Base64.getUrlEncoder().withoutPadding().encodeToString("early?>>".getBytes());
        for (WsOptions o : List.of(WsOptions.builder().path("/ws").build(),
                WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build())) {
            delivered.clear();
            serve(o);
            ch.writeInbound(ascii(upgrade("/ws" + b64, "")));
            assertEquals(PLAIN_101, response(), o.toString());
            assertEquals("early?>>", deliveredString());
            delivered.forEach(io.netty.util.ReferenceCountUtil::release);
            ch.finishAndReleaseAll();
        }
        delivered.clear();
    }

    @Test
    void standardAlphabetAndPaddingAreAccepted() {
        byte[] data = {(byte) 0xfb, (byte) 0xff, (byte) 0xfe, 1};
        String std = Base64.getEncoder().encodeToString(data); // "+//+AQ==": '+', '/' and padding
        serve(WsOptions.builder().path("/ws").build());
        ch.writeInbound(ascii(upgrade("/ws", "Sec-WebSocket-Protocol: " + std + "\r\n")));
        assertTrue(response().contains("Sec-WebSocket-Protocol: " + std + "\r\n"));
        assertArrayEquals(data, deliveredString().getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void headerModeWithACustomHeaderName() {
        serve(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).earlyDataHeader("X-ED")
                .build());
        ch.writeInbound(ascii(upgrade("/ws", "X-ED: aGk\r\n")));
        assertEquals(PLAIN_101, response(), "no echo for a header other than Sec-WebSocket-Protocol");
        assertEquals("hi", deliveredString());
    }

    @Test
    void defaultServerIgnoresAQueryAndARealSubprotocolList() {
        serve(WsOptions.builder().path("/ws").build());
        ch.writeInbound(ascii(upgrade("/ws?x=1", "Sec-WebSocket-Protocol: chat, superchat\r\n")));
        assertEquals(PLAIN_101, response());
        assertTrue(delivered.isEmpty());
    }

    @Test
    void xrayEdInTheServersPathIsHarmless() {
        serve(WsOptions.builder().path("/ws?ed=2048").build());
        ch.writeInbound(ascii(upgrade("/ws", "Sec-WebSocket-Protocol: aGk\r\n")));
        assertTrue(response().startsWith("HTTP/1.1 101 "));
        assertEquals("hi", deliveredString());
    }

    private void assertRejected(WsOptions o, String request, int status) {
        serve(o);
        ch.writeInbound(ascii(request));
        String res = response();
        assertTrue(res.startsWith("HTTP/1.1 " + status + " "), res);
        assertTrue(res.contains("Connection: close\r\n"), res);
        assertFalse(ch.isOpen(), "closed after the rejection");
        assertNull(info.get(), "never accepted");
        ch.finishAndReleaseAll();
        ch = null;
    }

    private static final WsOptions WS = WsOptions.builder().path("/ws").build();

    @Test
    void wrongPathIs404() {
        assertRejected(WS, upgrade("/other", ""), 404);
        assertRejected(WS, upgrade("/ws/", ""), 404);
        assertRejected(WS, upgrade("/ws/x", ""), 404);
        assertRejected(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 10).build(),
                upgrade("/wsaGk", ""), 404);
    }

    @Test
    void badEarlyDataIs400() {
        assertRejected(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 10).build(),
                upgrade("/ws!!", ""), 400);
        // sing-box: a path-mode server decodes a query as early data and fails.
        assertRejected(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 10).build(),
                upgrade("/ws?ed=2048", ""), 400);
        assertRejected(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 10).build(),
                upgrade("/ws", "Sec-WebSocket-Protocol: chat, superchat\r\n"), 400);
    }

    @Test
    void badWebSocketHeadersAre400() {
        String ok = upgrade("/ws", "");
        assertRejected(WS, ok.replace("Upgrade: websocket\r\n", ""), 400);
        assertRejected(WS, ok.replace("Upgrade: websocket\r\n", "Upgrade: h2c\r\n"), 400);
        assertRejected(WS, ok.replace("Connection: Upgrade\r\n", "Connection: keep-alive\r\n"), 400);
        assertRejected(WS, ok.replace("Sec-WebSocket-Key: " + KEY + "\r\n", ""), 400);
        assertRejected(WS, ok.replace(KEY, "c2hvcnQ="), 400);
        assertRejected(WS, ok.replace("Sec-WebSocket-Version: 13\r\n", ""), 400);
        assertRejected(WS, ok.replace("Host: 127.0.0.1:10002\r\n", ""), 400);
        assertRejected(WS, "GARBAGE\r\n\r\n", 400);
    }

    @Test
    void wrongVersionIs426WithTheSupportedVersion() {
        serve(WS);
        ch.writeInbound(ascii(upgrade("/ws", "").replace("Version: 13", "Version: 8")));
        String res = response();
        assertTrue(res.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), res);
        assertTrue(res.contains("Sec-WebSocket-Version: 13\r\n"), res);
        assertFalse(ch.isOpen());
    }

    @Test
    void nonGetIs405AndHttp10Is505() {
        assertRejected(WS, upgrade("/ws", "").replace("GET ", "POST "), 405);
        assertRejected(WS, upgrade("/ws", "").replace("HTTP/1.1", "HTTP/1.0"), 505);
    }

    @Test
    void hostCheck() {
        WsOptions o = WsOptions.builder().path("/ws").host("Example.COM").build();
        assertRejected(o, upgrade("/ws", ""), 400);
        serve(o);
        ch.writeInbound(ascii(upgrade("/ws", "").replace("127.0.0.1:10002", "example.com:443")));
        assertEquals(PLAIN_101, response());
    }

    @Test
    void tooLongRequestHeadIs431() {
        assertRejected(WS, upgrade("/ws", "X-Big: " + "a".repeat(70_000) + "\r\n"), 431);
    }

    @Test
    void handshakeTimeoutClosesTheConnection() {
        serve(WsOptions.builder().path("/ws").handshakeTimeout(java.time.Duration.ofSeconds(2)).build());
        ch.writeInbound(ascii("GET /ws HTTP/1.1\r\nHost: x\r\n"));
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen());
        ch.advanceTimeBy(1500, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isOpen(), "closed by the handshake timeout");
        assertEquals("", response(), "no response on a timeout");
    }

    @Test
    void trustedXForwardedFor() {
        serve(WsOptions.builder().path("/ws").trustXForwardedFor(true).build());
        ch.writeInbound(ascii(upgrade("/ws", "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n")));
        assertEquals(new InetSocketAddress("203.0.113.7", 0), info.get().remoteAddress());
        ch.finishAndReleaseAll();
        info.set(null);
        serve(WS);
        ch.writeInbound(ascii(upgrade("/ws", "X-Forwarded-For: 203.0.113.7\r\n")));
        assertEquals(ch.remoteAddress(), info.get().remoteAddress(), "ignored unless trusted");
    }

    @Test
    void responseHeadersFromOptionsAreAddedToThe101() {
        serve(WsOptions.builder().path("/ws").header("X-Served-By", "tw").build());
        ch.writeInbound(ascii(upgrade("/ws", "")));
        assertTrue(response().endsWith("Sec-WebSocket-Accept: " + ACCEPT + "\r\nX-Served-By: tw\r\n\r\n"));
    }

    private void upgraded(WsOptions o) {
        serve(o);
        ch.writeInbound(ascii(upgrade("/ws", "")));
        response();
    }

    @Test
    void textFramesAreDataByDefault() {
        upgraded(WS);
        ch.writeInbound(maskedFrames(new TextWebSocketFrame(false, 0, "tex"),
                new ContinuationWebSocketFrame(true, 0, ascii("t")), new BinaryWebSocketFrame(ascii("!"))));
        assertEquals("text!", deliveredString());
    }

    @Test
    void textFramesCanBeDiscardedWithTheirFragments() {
        upgraded(WsOptions.builder().path("/ws").textFrames(WsOptions.TextFrames.DISCARD).build());
        ch.writeInbound(maskedFrames(new TextWebSocketFrame(false, 0, "tex"),
                new ContinuationWebSocketFrame(true, 0, ascii("t")), new BinaryWebSocketFrame(false, 0, ascii("bi")),
                new ContinuationWebSocketFrame(true, 0, ascii("n"))));
        assertEquals("bin", deliveredString());
    }

    @Test
    void serverFramesAreUnmaskedOnePerWrite() {
        upgraded(WS);
        ch.writeOutbound(ascii("hello"));
        assertArrayEquals(new byte[] {(byte) 0x82, 5, 'h', 'e', 'l', 'l', 'o'}, outboundBytes());
        ch.writeOutbound(Unpooled.wrappedBuffer(new byte[300]));
        byte[] f = outboundBytes();
        assertEquals(304, f.length);
        assertArrayEquals(new byte[] {(byte) 0x82, 0x7e, 0x01, 0x2c}, java.util.Arrays.copyOf(f, 4));
    }

    @Test
    void localCloseSends1000ThenClosesTcp() {
        upgraded(WS);
        ch.close();
        assertArrayEquals(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xe8}, outboundBytes());
        assertFalse(ch.isOpen());
    }

    @Test
    void peerCloseIsAnsweredWithItsCodeAndClosesTheTunnel() {
        upgraded(WS);
        ch.writeInbound(maskedFrames(new CloseWebSocketFrame(1001, "going away")));
        assertArrayEquals(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xe9}, outboundBytes());
        assertFalse(ch.isOpen());
    }

    @Test
    void emptyPeerCloseIsAnsweredWithAnEmptyClose() {
        upgraded(WS);
        ch.writeInbound(maskedFrames(new CloseWebSocketFrame()));
        assertArrayEquals(new byte[] {(byte) 0x88, 0}, outboundBytes());
        assertFalse(ch.isOpen());
    }

    @Test
    void halfCloseFailsSoTheTunnelCloses() {
        upgraded(WS);
        ChannelFuture f = Tunnels.shutdownOutput(ch);
        ch.runPendingTasks();
        assertFalse(f.isSuccess());
        assertTrue(f.cause() instanceof UnsupportedOperationException);
        assertFalse(ch.isOpen());
        assertArrayEquals(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xe8}, outboundBytes());
    }

    @Test
    void frameLargerThanTheLimitIsClosedWith1009() {
        upgraded(WsOptions.builder().path("/ws").maxFramePayload(1000).build());
        ch.writeInbound(maskedFrames(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[1001]))));
        byte[] out = outboundBytes();
        assertArrayEquals(new byte[] {(byte) 0x88}, java.util.Arrays.copyOf(out, 1));
        assertEquals(1009, ((out[2] & 0xff) << 8) | (out[3] & 0xff));
        assertFalse(ch.isOpen());
        assertTrue(delivered.isEmpty());
    }
}
