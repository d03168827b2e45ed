package dev.tunnelwire.transport.ws;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dialer's handshake and stream adapter on an {@link EmbeddedChannel}: request transcripts (peer-singbox.md §3.2,
 * §3.3; peer-xray.md §3.2, §3.3), response checks, early-data splits, and client framing.
 */
class WsClientHandshakeTest {

    private static final Pattern KEY = Pattern.compile("Sec-WebSocket-Key: ([A-Za-z0-9+/=]{24})\r\n");

    private EmbeddedChannel ch;
    private Promise<Channel> promise;
    private final List<Object> delivered = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        delivered.forEach(ReferenceCountUtil::release);
    }

    private String dial(WsOptions o, String firstPayload) {
        return dial(o, firstPayload == null ? null : Unpooled.copiedBuffer(firstPayload, StandardCharsets.ISO_8859_1));
    }

    /** Starts the handshake on a fresh channel; returns the request as written. */
    private String dial(WsOptions o, ByteBuf first) {
        ch = new EmbeddedChannel();
        promise = ch.eventLoop().newPromise();
        WsDialer d = new WsDialer(TunnelRuntime.shared(), DialerConfig.of(new InetSocketAddress("127.0.0.1", 10002)),
                o);
        TunnelInitializer init = (t, info) -> {
            events.add("init");
            t.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    events.add("read");
                    delivered.add(msg);
                }
            });
        };
        d.install(ch, first, init, promise);
        return readAscii();
    }

    private String readAscii() {
        StringBuilder b = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) o;
            b.append(buf.toString(StandardCharsets.ISO_8859_1));
            buf.release();
        }
        return b.toString();
    }

    private static String key(String request) {
        Matcher m = KEY.matcher(request);
        assertTrue(m.find(), request);
        return m.group(1);
    }

    private static String response101(String request, String extra) {
        return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + WsProtocol.acceptKey(key(request)) + "\r\n" + extra + "\r\n";
    }

    private void respond(String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    /** Decodes what the client wrote as server-side frames. */
    private List<WebSocketFrame> clientFrames() {
        EmbeddedChannel dec = new EmbeddedChannel(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(true).maxFramePayloadLength(Integer.MAX_VALUE).build()));
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            assertTrue(!b.isReadable() || (b.getByte(b.readerIndex() + 1) & 0x80) != 0 || b.readableBytes() < 2,
                    "client frames are masked");
            dec.writeInbound(b);
        }
        List<WebSocketFrame> frames = new ArrayList<>();
        for (Object o; (o = dec.readInbound()) != null; ) {
            frames.add((WebSocketFrame) o);
        }
        dec.finishAndReleaseAll();
        return frames;
    }

    private static String text(WebSocketFrame f) {
        try {
            return f.content().toString(StandardCharsets.ISO_8859_1);
        } finally {
            f.release();
        }
    }

    @Test
    void requestTranscriptWithoutEarlyData() {
        String req = dial(WsOptions.builder().path("/ws").build(), (String) null);
        String key = key(req);
        assertEquals(16, Base64.getDecoder().decode(key).length);
        assertEquals("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:10002\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
                + "User-Agent: Go-http-client/1.1\r\n\r\n", req);
        assertFalse(promise.isDone());
        respond(response101(req, ""));
        assertTrue(promise.isSuccess());
        assertEquals(List.of("init"), events);
        assertEquals("/ws", dev.tunnelwire.TunnelInfo.get(ch).path());
    }

    @Test
    void hostOptionConfiguredHeadersAndUserAgent() {
        String req = dial(WsOptions.builder().path("/p").header("Host", "cdn.example").header("X-A", "1")
                .header("Sec-WebSocket-Protocol", "chat").userAgent("").build(), (String) null);
        assertTrue(req.startsWith("GET /p HTTP/1.1\r\nHost: cdn.example\r\n"), req);
        assertTrue(req.endsWith("Sec-WebSocket-Version: 13\r\nX-A: 1\r\nSec-WebSocket-Protocol: chat\r\n\r\n"), req);
        assertFalse(req.contains("User-Agent"));
        // The echo of what was sent is accepted.
        respond(response101(req, "Sec-WebSocket-Protocol: chat\r\n"));
        assertTrue(promise.isSuccess());
        ch.finishAndReleaseAll();
        req = dial(WsOptions.builder().host("h.example").header("Host", "ignored").build(), (String) null);
        assertTrue(req.startsWith("GET / HTTP/1.1\r\nHost: h.example\r\n"), req);
    }

    @Test
    void pathEarlyDataSplitsAtMaxEarlyData() {
        byte[] first = new byte[3000];
        new java.util.Random(3).nextBytes(first);
        String req = dial(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build(),
                Unpooled.wrappedBuffer(first));
        String b64 = Base64.getUrlEncoder().withoutPadding()
                .encodeToString(java.util.Arrays.copyOf(first, 2048));
        assertTrue(req.startsWith("GET /ws" + b64 + " HTTP/1.1\r\n"), req.substring(0, 80));
        assertFalse(req.contains("Sec-WebSocket-Protocol"));
        respond(response101(req, ""));
        assertTrue(promise.isSuccess());
        List<WebSocketFrame> frames = clientFrames();
        assertEquals(1, frames.size());
        assertInstanceOf(BinaryWebSocketFrame.class, frames.get(0));
        assertArrayEquals(java.util.Arrays.copyOfRange(first, 2048, 3000),
                ByteBufUtil.getBytes(frames.get(0).content()));
        frames.get(0).release();
    }

    @Test
    void headerEarlyDataWithACustomName() {
        String req = dial(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 4)
                .earlyDataHeader("X-ED").build(), "abcdef");
        assertTrue(req.contains("Sec-WebSocket-Version: 13\r\nX-ED: YWJjZA\r\nUser-Agent:"), req);
        respond(response101(req, ""));
        List<WebSocketFrame> frames = clientFrames();
        assertEquals("ef", text(frames.get(0)));
    }

    @Test
    void singBoxHeaderModeSendsTheValueAsProtocolAndAcceptsNoEcho() {
        String req = dial(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).build(),
                "hello");
        assertTrue(req.contains("Sec-WebSocket-Protocol: aGVsbG8\r\n"), req);
        respond(response101(req, ""));
        assertTrue(promise.isSuccess());
        assertTrue(clientFrames().isEmpty(), "everything rode in the handshake");
    }

    @Test
    void xrayModeAllOrNothing() {
        WsOptions o = WsOptions.builder().path("/ws?ed=8").build();
        assertEquals(WsOptions.EarlyData.XRAY, o.earlyData());
        assertEquals(8, o.maxEarlyData());
        assertEquals("/ws", o.path());
        String req = dial(o, "12345678");
        assertTrue(req.startsWith("GET /ws HTTP/1.1\r\n"), req);
        assertTrue(req.contains("Sec-WebSocket-Protocol: MTIzNDU2Nzg\r\n"), req);
        respond(response101(req, "Sec-WebSocket-Protocol: MTIzNDU2Nzg\r\n"));
        assertTrue(promise.isSuccess());
        assertTrue(clientFrames().isEmpty());
        ch.finishAndReleaseAll();

        req = dial(o, "123456789");
        assertFalse(req.contains("Sec-WebSocket-Protocol"), req);
        respond(response101(req, ""));
        assertEquals("123456789", text(clientFrames().get(0)));
    }

    @Test
    void framesTheServerSentRightAfterThe101AreDeliveredAfterTheInitializer() {
        String req = dial(WsOptions.defaults(), (String) null);
        ByteBuf res = Unpooled.copiedBuffer(response101(req, ""), StandardCharsets.ISO_8859_1);
        res.writeBytes(new byte[] {(byte) 0x82, 5, 'h', 'e', 'l', 'l', 'o'});
        ch.writeInbound(res);
        assertEquals(List.of("init", "read"), events);
        assertEquals("hello", ((ByteBuf) delivered.get(0)).toString(StandardCharsets.US_ASCII));
        assertNull(ch.pipeline().get(WsProtocol.HTTP_DECODER));
        assertNull(ch.pipeline().get(WsProtocol.HANDSHAKE));
    }

    private HandshakeException failure(String response) {
        String req = dial(WsOptions.defaults(), "first");
        respond(response.replace("{accept}", WsProtocol.acceptKey(key(req))));
        assertTrue(promise.isDone());
        assertFalse(ch.isOpen());
        assertTrue(events.isEmpty());
        return assertInstanceOf(HandshakeException.class, promise.cause());
    }

    @Test
    void non101IsAHandshakeExceptionWithTheStatus() {
        assertEquals(404, failure("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").status());
        assertEquals(426, failure("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                + "Content-Length: 0\r\n\r\n").status());
    }

    @Test
    void wrongAcceptIsAHandshakeException() {
        HandshakeException e = failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
        assertTrue(e.getMessage().contains("Sec-WebSocket-Accept"), e.getMessage());
        assertEquals(101, e.status());
    }

    @Test
    void unrequestedProtocolOrExtensionOrBadUpgradeHeadersFail() {
        failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: chat\r\n\r\n");
        failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n");
        failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: {accept}\r\n\r\n");
        failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Accept: {accept}\r\n\r\n");
    }

    @Test
    void echoDifferentFromWhatWasSentFails() {
        String req = dial(WsOptions.builder().earlyData(WsOptions.EarlyData.HEADER, 100).build(), "hello");
        respond(response101(req, "Sec-WebSocket-Protocol: aGVsbG9v\r\n"));
        assertInstanceOf(HandshakeException.class, promise.cause());
    }

    @Test
    void handshakeTimeout() {
        dial(WsOptions.builder().handshakeTimeout(Duration.ofSeconds(3)).build(), "x");
        ch.advanceTimeBy(3100, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        HandshakeException e = assertInstanceOf(HandshakeException.class, promise.cause());
        assertTrue(e.getMessage().contains("timed out"));
        assertFalse(ch.isOpen());
    }

    @Test
    void connectionClosedDuringTheHandshakeFails() {
        dial(WsOptions.defaults(), "x");
        ch.close();
        assertInstanceOf(HandshakeException.class, promise.cause());
    }

    private void upgraded(WsOptions o) {
        String req = dial(o, (String) null);
        respond(response101(req, ""));
        assertTrue(promise.isSuccess());
    }

    @Test
    void oneMaskedBinaryFramePerWrite() {
        upgraded(WsOptions.defaults());
        ch.writeOutbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        ch.writeOutbound(Unpooled.wrappedBuffer(new byte[70_000]));
        ch.writeOutbound(Unpooled.EMPTY_BUFFER);
        List<WebSocketFrame> frames = clientFrames();
        assertEquals(2, frames.size());
        assertEquals("hello", text(frames.get(0)));
        assertEquals(70_000, frames.get(1).content().readableBytes());
        frames.get(1).release();
    }

    @Test
    void largeWritesAreFragmentedWhenConfigured() {
        upgraded(WsOptions.builder().fragmentSize(4096).build());
        ch.writeOutbound(Unpooled.wrappedBuffer(new byte[10_000]));
        List<WebSocketFrame> frames = clientFrames();
        assertEquals(3, frames.size());
        assertInstanceOf(BinaryWebSocketFrame.class, frames.get(0));
        assertFalse(frames.get(0).isFinalFragment());
        assertInstanceOf(ContinuationWebSocketFrame.class, frames.get(1));
        assertFalse(frames.get(1).isFinalFragment());
        assertTrue(frames.get(2).isFinalFragment());
        assertEquals(10_000 - 8192, frames.get(2).content().readableBytes());
        frames.forEach(WebSocketFrame::release);
    }

    @Test
    void pingIsAnsweredWithAMaskedPongAndPeerCloseIsEchoed() {
        upgraded(WsOptions.defaults());
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x89, 0})); // Xray's empty heartbeat ping
        List<WebSocketFrame> frames = clientFrames();
        assertInstanceOf(PongWebSocketFrame.class, frames.get(0));
        assertEquals(0, frames.get(0).content().readableBytes());
        frames.get(0).release();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xe8}));
        CloseWebSocketFrame close = (CloseWebSocketFrame) clientFrames().get(0);
        assertEquals(1000, close.statusCode());
        close.release();
        assertFalse(ch.isOpen());
    }

    @Test
    void localCloseSendsAMaskedClose1000() {
        upgraded(WsOptions.defaults());
        ch.close();
        CloseWebSocketFrame close = (CloseWebSocketFrame) clientFrames().get(0);
        assertEquals(1000, close.statusCode());
        assertEquals("", close.reasonText());
        close.release();
    }

    @Test
    void optionsValidation() {
        assertThrows(IllegalArgumentException.class, () -> WsOptions.builder().path("ws").build());
        assertThrows(IllegalArgumentException.class,
                () -> WsOptions.builder().earlyData(WsOptions.EarlyData.PATH, 0).build());
        assertThrows(IllegalArgumentException.class,
                () -> WsOptions.builder().path("/a?b=1").earlyData(WsOptions.EarlyData.PATH, 10).build());
        assertThrows(IllegalArgumentException.class,
                () -> WsOptions.builder().path("/a?ed=10").earlyData(WsOptions.EarlyData.PATH, 10).build());
        assertThrows(IllegalArgumentException.class, () -> WsOptions.builder().maxFramePayload(-1).build());
        assertEquals("/p?a=1", WsOptions.builder().path("/p?a=1&ed=2048").build().path());
        WsOptions d = WsOptions.defaults();
        assertEquals("/", d.path());
        assertEquals(WsOptions.EarlyData.NONE, d.earlyData());
        assertEquals(WsOptions.TextFrames.DATA, d.textFrames());
        assertEquals(Duration.ofSeconds(15), d.handshakeTimeout());
        assertEquals("Go-http-client/1.1", d.userAgent());
    }

    @Test
    void providerParsesGostStyleParameters() {
        WsTransportProvider p = new WsTransportProvider();
        assertTrue(p.schemes().containsAll(List.of("ws", "wss")));
        WsOptions o = p.parse(java.util.Map.of("path", "/x", "maxEarlyData", "2048", "header.X-A", "1",
                "textFrames", "discard", "handshakeTimeout", "5s"));
        assertEquals(WsOptions.EarlyData.PATH, o.earlyData());
        assertEquals(java.util.Map.of("X-A", "1"), o.headers());
        assertEquals(WsOptions.TextFrames.DISCARD, o.textFrames());
        assertEquals(Duration.ofSeconds(5), o.handshakeTimeout());
        assertEquals(WsOptions.EarlyData.HEADER, p.parse(java.util.Map.of("ed", "10",
                "earlyDataHeader", "Sec-WebSocket-Protocol")).earlyData());
        assertEquals(WsOptions.EarlyData.XRAY, p.parse(java.util.Map.of("ws.path", "/x?ed=10")).earlyData());
        assertThrows(IllegalArgumentException.class, () -> p.parse(java.util.Map.of("bogus", "1")));
        assertThrows(IllegalArgumentException.class, () -> p.parse(java.util.Map.of("earlyData", "sideways")));
        assertTrue(dev.tunnelwire.TransportRegistry.defaultRegistry().contains("wss"));
    }
}
