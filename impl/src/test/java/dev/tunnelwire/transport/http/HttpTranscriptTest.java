package dev.tunnelwire.transport.http;

import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wire transcripts of peer-singbox.md §2.3-2.6 on {@link EmbeddedChannel}s: the client's request head and first
 * payload, its handling of Go's response (framing headers ignored, bytes after the head kept), the server's
 * responses and rejections, its delivery of the body and pipelined bytes, and the HTTP/2 header sets.
 */
class HttpTranscriptTest {

    private static TunnelRuntime runtime;
    private EmbeddedChannel ch;

    @BeforeAll
    static void startRuntime() {
        runtime = TunnelRuntime.create(1);
    }

    @AfterAll
    static void stopRuntime() {
        runtime.close();
    }

    @AfterEach
    void finish() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static String text(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.ISO_8859_1);
        } finally {
            b.release();
        }
    }

    /** Reads every outbound buffer as one string. */
    private static String outbound(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(text(b));
        }
        return sb.toString();
    }

    private static String inbound(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = ch.readInbound()) != null) {
            sb.append(text((ByteBuf) o));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- client, HTTP/1.1

    private EmbeddedChannel client(HttpOptions o, String host) {
        H1ClientHandshakeHandler hs = new H1ClientHandshakeHandler(
                HttpProtocol.requestHead(Unpooled.buffer().alloc(), o, host), 15_000);
        ch = new EmbeddedChannel();
        ch.pipeline().addLast(H1ClientHandshakeHandler.DECODER, new HttpResponseDecoder());
        ch.pipeline().addLast(H1ClientHandshakeHandler.NAME, hs);
        return ch;
    }

    @Test
    void clientRequestHeadAndFirstPayloadLeaveInOneBuffer() {
        HttpOptions o = HttpOptions.builder().path("/vless").header("X-Custom", "v1", "v2").build();
        client(o, "127.0.0.1");
        ch.writeOutbound(ascii("VLESS-HEADER"));
        ByteBuf first = ch.readOutbound();
        assertEquals("PUT /vless HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Custom: v1, v2\r\n\r\nVLESS-HEADER", text(first));
        assertNull(ch.readOutbound(), "head and first payload are one write");
        ch.writeOutbound(ascii("more"));
        assertEquals("more", outbound(ch), "later writes are raw, unframed");
    }

    @Test
    void clientIgnoresGoChunkedHeaderAndKeepsBytesAfterTheHead() {
        client(HttpOptions.defaults(), "10.0.0.1");
        ch.writeOutbound(ascii("x"));
        assertTrue(outbound(ch).startsWith("PUT / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\nx"));
        // What Go's server sends after Hijack: a chunked header, but raw bytes.
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n\u0000\u0000hello"));
        assertEquals("\u0000\u0000hello", inbound(ch));
        ch.writeInbound(ascii("5\r\nworld"));
        assertEquals("5\r\nworld", inbound(ch), "nothing is chunk-decoded");
        ch.runPendingTasks();
        assertNull(ch.pipeline().get(H1ClientHandshakeHandler.NAME), "the handshake handler stepped aside");
        assertNull(ch.pipeline().get(H1ClientHandshakeHandler.DECODER));
    }

    @Test
    void clientResponseWithContentLengthZeroStillTunnels() {
        client(HttpOptions.defaults(), "h");
        ch.writeOutbound(ascii("x"));
        outbound(ch);
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nafter"));
        ch.runPendingTasks();
        assertEquals("after", inbound(ch));
    }

    @Test
    void clientRejectsEveryStatusButTwoHundred() {
        client(HttpOptions.defaults(), "h");
        AtomicReference<Throwable> error = new AtomicReference<>();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                error.set(cause);
            }
        });
        ch.writeOutbound(ascii("x"));
        outbound(ch);
        ch.writeInbound(ascii("HTTP/1.1 204 No Content\r\n\r\nsecret"));
        HandshakeException e = assertInstanceOf(HandshakeException.class, error.get());
        assertEquals(204, e.status());
        assertFalse(ch.isActive());
        assertNull(ch.readInbound(), "no tunnel data after a failed handshake");
    }

    @Test
    void clientSendsTheHeadAloneWithoutAFirstPayloadAndHoldsLeftoverWhileNotReading() {
        client(HttpOptions.builder().method("POST").path("a b?c").build(), "h");
        ch.config().setAutoRead(false);
        ch.pipeline().context(H1ClientHandshakeHandler.NAME);
        H1ClientHandshakeHandler hs = (H1ClientHandshakeHandler) ch.pipeline().get(H1ClientHandshakeHandler.NAME);
        hs.sendRequest(ch.pipeline().context(hs));
        assertEquals("POST /a%20b%3Fc HTTP/1.1\r\nHost: h\r\n\r\n", outbound(ch));
        List<Object> events = new ArrayList<>();
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.fireChannelRead(msg);
            }
        });
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\n\r\nearly"));
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        ch.runPendingTasks();
        assertNull(ch.readInbound(), "held until the application reads");
        assertTrue(events.isEmpty(), "the server's FIN stays behind the held bytes");
        ch.read();
        assertEquals("early", inbound(ch));
        assertEquals(List.of(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE), events);
    }

    @Test
    void configuredHostHeaderReplacesTheHostChoice() {
        HttpOptions o = HttpOptions.builder().hosts("a.example").header("Host", "b.example").build();
        String head = text(HttpProtocol.requestHead(Unpooled.buffer().alloc(), o, "a.example"));
        assertEquals("PUT / HTTP/1.1\r\nHost: b.example\r\n\r\n", head);
    }

    // ---------------------------------------------------------------- server, HTTP/1.1

    private final List<TunnelInfo> accepted = new ArrayList<>();

    private EmbeddedChannel server(HttpOptions o) {
        TunnelListener l = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), o);
        ch = new EmbeddedChannel();
        l.serve(ch, (tunnel, info) -> accepted.add(info));
        return ch;
    }

    private static final HttpOptions SERVER = HttpOptions.builder().hosts("tunnel.example").path("/tun")
            .method("PUT").header("X-Server", "one", "two").header("Cache-Control", "private").build();

    @Test
    void serverAnswersTwoHundredAndDeliversBodyThenPipelinedBytesRaw() {
        server(SERVER);
        ch.writeInbound(ascii("PUT /tun/x?q=1 HTTP/1.1\r\nHost: tunnel.example\r\nContent-Length: 3\r\n\r\nabcXYZ"));
        String response = outbound(ch);
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\nCache-Control: private\r\nX-Server: two\r\nDate: "),
                response);
        assertTrue(response.endsWith("\r\n\r\n"), "no body: " + response);
        assertFalse(response.toLowerCase().contains("content-length"));
        assertFalse(response.toLowerCase().contains("transfer-encoding"));
        ch.runPendingTasks();
        assertEquals("abcXYZ", inbound(ch), "body bytes first, then what followed, in order");
        ch.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
        assertEquals("GET / HTTP/1.1\r\n\r\n", inbound(ch), "the connection is a raw tunnel now");
        ch.writeOutbound(ascii("down"));
        assertEquals("down", outbound(ch));
        assertEquals(1, accepted.size());
        assertEquals("tunnel.example", accepted.get(0).authority());
        assertEquals("/tun/x?q=1", accepted.get(0).path());
    }

    @Test
    void serverHoldsBytesBehindTheHeadWhileTheApplicationDoesNotRead() {
        TunnelListener l = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), HttpOptions.defaults());
        ch = new EmbeddedChannel();
        List<Object> events = new ArrayList<>();
        l.serve(ch, (tunnel, info) -> {
            tunnel.config().setAutoRead(false); // e.g. until the upstream connection is up
            tunnel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    events.add(evt);
                }

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.fireChannelRead(msg);
                }
            });
        });
        ch.writeInbound(ascii("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nbody+more"));
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        assertTrue(outbound(ch).startsWith("HTTP/1.1 200 OK"));
        ch.runPendingTasks();
        assertNull(ch.readInbound(), "nothing before the application reads");
        assertTrue(events.isEmpty(), "nor the half-close behind the bytes");
        ch.read();
        assertEquals("body+more", inbound(ch));
        assertEquals(List.of(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE), events);
        ch.runPendingTasks();
        assertNull(ch.pipeline().get(H1ServerHandshakeHandler.NAME), "stepped aside once drained");
    }

    @Test
    void serverDefaultResponseHasCacheControlNoStore() {
        server(HttpOptions.defaults());
        ch.writeInbound(ascii("POST /any HTTP/1.1\r\nHost: whatever\r\n\r\n"));
        String response = outbound(ch).toLowerCase();
        assertTrue(response.startsWith("http/1.1 200 ok\r\ncache-control: no-store\r\ndate: "), response);
        assertEquals(1, accepted.size());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "PUT /tun HTTP/1.1\\r\\nHost: other.example\\r\\n\\r\\n|400",
        "PUT /nope HTTP/1.1\\r\\nHost: other.example\\r\\n\\r\\n|400",
        "PUT /nope HTTP/1.1\\r\\nHost: tunnel.example\\r\\n\\r\\n|404",
        "GET /nope HTTP/1.1\\r\\nHost: tunnel.example\\r\\n\\r\\n|404",
        "GET /tun HTTP/1.1\\r\\nHost: tunnel.example\\r\\n\\r\\n|404",
        "PUT /tun HTTP/1.1\\r\\n\\r\\n|400",
        "PUT /t%zz HTTP/1.1\\r\\nHost: tunnel.example\\r\\n\\r\\n|400",
        "PUT /tun HTTP/1.1\\r\\nHost: tunnel.example:80\\r\\n\\r\\n|400",
    })
    void serverRejectsInSingBoxOrderWithoutBody(String request, int status) {
        server(SERVER);
        ch.writeInbound(ascii(request.replace("\\r\\n", "\r\n") + "payload"));
        String response = outbound(ch);
        assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
        assertTrue(response.toLowerCase().contains("content-length: 0\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\n"), response);
        assertFalse(ch.isActive(), "closed after a rejection");
        assertTrue(accepted.isEmpty());
        assertNull(ch.readInbound());
    }

    @Test
    void serverAcceptsAPathWithEscapesByItsDecodedForm() {
        server(HttpOptions.builder().path("/a b").build());
        ch.writeInbound(ascii("PUT /a%20b/c HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertTrue(outbound(ch).startsWith("HTTP/1.1 200 OK"));
    }

    @Test
    void serverSeesTheHttp2PrefaceAndSpeaksHttp2() {
        server(HttpOptions.defaults());
        ch.writeInbound(Unpooled.wrappedBuffer(HttpProtocol.H2_PREFACE));
        ByteBuf settings = ch.readOutbound();
        assertNotNull(settings, "server SETTINGS");
        assertEquals(0x4, settings.getByte(3), "first frame is SETTINGS");
        settings.release();
        assertNull(ch.pipeline().get(H1ServerHandshakeHandler.NAME));
        assertNotNull(ch.pipeline().get("tw-h2"));
    }

    @Test
    void serverClosesAnUnansweredConnectionAfterTheHandshakeTimeout() throws Exception {
        server(HttpOptions.builder().handshakeTimeout(java.time.Duration.ofMillis(50)).build());
        ch.writeInbound(ascii("PUT / HT"));
        Thread.sleep(80);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isActive());
    }

    // ---------------------------------------------------------------- HTTP/2 header sets

    @Test
    void http2RequestHeaders() {
        HttpOptions o = HttpOptions.builder().path("/vless").header("X-Custom", "v1", "v2").header("Host", "ignored")
                .build();
        Http2Headers h = HttpProtocol.requestHeaders(o, HttpOptions.DEFAULT_H2_AUTHORITY);
        assertEquals("PUT", h.method().toString());
        assertEquals("/vless", h.path().toString());
        assertEquals("https", h.scheme().toString());
        assertEquals("www.example.com", h.authority().toString());
        assertEquals(List.of("v1", "v2"), h.getAll("x-custom").stream().map(CharSequence::toString).toList());
        assertNull(h.get("host"), "Host travels as :authority");
        assertNull(h.get("content-length"));
    }

    @Test
    void http2ResponseHeaders() {
        Http2Headers h = HttpProtocol.responseHeaders2(SERVER);
        assertEquals("200", h.status().toString());
        assertEquals("private", h.get("cache-control").toString(), "configured headers replace, as Header.Set");
        assertEquals("two", h.get("x-server").toString(), "one value per name: the last");
        assertNotNull(h.get("date"));
        assertEquals(HttpProtocol.responseHeaders2(HttpOptions.defaults()).get("cache-control").toString(),
                "no-store");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "/vless, /vless",
        "vless, /vless",
        "/a?b, /a%3Fb",
        "/a b, /a%20b",
        "/a%20b, /a%20b",
        "/a%2Fb, /a%2Fb",
        "/ü, /%C3%BC",
        "/a#b, /a%23b",
        "'/$&+,:;=@', '/$&+,:;=@'",
    })
    void requestTargetEscapesAsGo(String path, String target) {
        assertEquals(target, HttpProtocol.requestTarget(HttpOptions.builder().path(path).build().path()));
    }

    @Test
    void hostWithoutPortIsUnbracketed() {
        assertEquals("::1", HttpProtocol.hostWithoutPort(new InetSocketAddress("::1", 443)));
        assertEquals("127.0.0.1", HttpProtocol.hostWithoutPort(new InetSocketAddress("127.0.0.1", 443)));
        assertEquals("example.com", HttpProtocol.hostWithoutPort(InetSocketAddress.createUnresolved("example.com", 1)));
    }
}
