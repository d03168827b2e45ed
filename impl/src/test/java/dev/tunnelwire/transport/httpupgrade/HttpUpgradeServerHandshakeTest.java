package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server handshake on an {@link EmbeddedChannel}: the peers' request transcripts (peer-xray.md §2.2,
 * peer-singbox.md §4.2), the exact 101, pipelined bytes, and every validation rule with its status (or close).
 */
class HttpUpgradeServerHandshakeTest {

    static final String RESPONSE_101 = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
            + "Upgrade: websocket\r\n\r\n";

    /** sing-box v1.13.2 client, host and path /up (peer-singbox.md §4.2). */
    static final String SINGBOX_REQUEST = "GET /up HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Go-http-client/1.1\r\n"
            + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n";

    /** Xray v26.7.28 client, no custom headers, host 127.0.0.1, path /hu (peer-xray.md §2.2; N = 144). */
    static final String XRAY_REQUEST = "GET /hu HTTP/1.1\r\n"
            + "Host: 127.0.0.1\r\n"
            + "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            + "Chrome/144.0.0.0 Safari/537.36\r\n"
            + "Accept: */*\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\n"
            + "Cache-Control: no-cache\r\n"
            + "Connection: Upgrade\r\n"
            + "DNT: 1\r\n"
            + "Pragma: no-cache\r\n"
            + "Sec-CH-UA: \"Chromium\";v=\"144\", \"Not(A:Brand\";v=\"24\", \"Google Chrome\";v=\"144\"\r\n"
            + "Sec-CH-UA-Mobile: ?0\r\n"
            + "Sec-CH-UA-Platform: \"Windows\"\r\n"
            + "Sec-Fetch-Dest: empty\r\n"
            + "Sec-Fetch-Mode: websocket\r\n"
            + "Sec-Fetch-Site: same-origin\r\n"
            + "Upgrade: websocket\r\n"
            + "\r\n";

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

    /** Collects tunnel bytes and remembers the info; records whether data came before the initializer. */
    static final class Tunnel extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TunnelInfo info;
        int reads;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                reads++;
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                bytes.writeBytes(a);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private EmbeddedChannel serve(HttpUpgradeOptions options, Tunnel tunnel) {
        EmbeddedChannel ch = new EmbeddedChannel();
        channels.add(ch);
        HttpUpgradeListener listener = new HttpUpgradeListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), options);
        listener.serve(ch, (t, info) -> {
            tunnel.info = info;
            t.pipeline().addLast(tunnel);
        });
        return ch;
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private static String outbound(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    private static HttpUpgradeOptions opts(String path) {
        return HttpUpgradeOptions.builder().path(path).build();
    }

    @Test
    void singBoxRequestIsUpgradedWithTheExactResponse() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up").host("example.com").build(), t);
        ch.writeInbound(ascii(SINGBOX_REQUEST));
        assertEquals(RESPONSE_101, outbound(ch));
        assertNotNull(t.info);
        assertEquals("httpupgrade", t.info.transport());
        assertEquals("example.com", t.info.authority());
        assertEquals("/up", t.info.path());
        assertEquals("Go-http-client/1.1", t.info.headers().get("User-Agent"));
        assertNull(ch.pipeline().get(HttpUpgradeProtocol.CODEC), "codec removed");
        assertNull(ch.pipeline().get(HttpUpgradeProtocol.HANDSHAKE), "handshake handler removed");
        assertTrue(ch.isActive());
        // raw bytes afterwards, both ways, unframed
        ch.writeInbound(ascii("GET / HTTP/1.1\r\n\r\n"));
        assertEquals("GET / HTTP/1.1\r\n\r\n", t.bytes.toString(StandardCharsets.ISO_8859_1));
        ch.writeOutbound(ascii("HTTP/1.1 200 OK\r\n"));
        assertEquals("HTTP/1.1 200 OK\r\n", outbound(ch));
    }

    @Test
    void xrayRequestWithEarlyDataInTheSameReadKeepsEveryByte() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/hu?ed=2048"), t);
        byte[] vless = new byte[300];
        new Random(1).nextBytes(vless);
        ByteBuf in = Unpooled.wrappedBuffer(ascii(XRAY_REQUEST), Unpooled.wrappedBuffer(vless));
        ch.writeInbound(in);
        assertEquals(RESPONSE_101, outbound(ch));
        assertArrayEquals(vless, t.bytes.toByteArray());
        assertEquals(1, t.reads, "pipelined bytes arrive as the one leftover buffer");
    }

    @Test
    void requestHeadArrivingByteByByteThenData() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        byte[] head = (SINGBOX_REQUEST + "tail").getBytes(StandardCharsets.ISO_8859_1);
        for (byte b : head) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertEquals(RESPONSE_101, outbound(ch));
        assertEquals("tail", t.bytes.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void sixtyFourKibPipelinedInOneBufferAllArrive() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        byte[] data = new byte[64 * 1024];
        new Random(64).nextBytes(data);
        // Bytes that look like HTTP must not be parsed either.
        byte[] http = SINGBOX_REQUEST.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(http, 0, data, 0, http.length);
        ch.writeInbound(Unpooled.wrappedBuffer(ascii(SINGBOX_REQUEST), Unpooled.wrappedBuffer(data)));
        assertEquals(RESPONSE_101, outbound(ch));
        assertArrayEquals(data, t.bytes.toByteArray());
    }

    @Test
    void v2flyHeaderEarlyDataComesFirstThenPipelinedBytes() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up")
                .earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER).earlyDataHeader("Sec-Early").build(), t);
        String req = "GET /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nSec-Early: aGVsbG8g\r\n"
                + "Upgrade: websocket\r\n\r\nworld";
        ch.writeInbound(ascii(req));
        assertEquals(RESPONSE_101, outbound(ch));
        assertEquals("hello world", t.bytes.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void badV2flyEarlyDataIs400() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up")
                .earlyData(HttpUpgradeOptions.EarlyData.V2FLY_HEADER).earlyDataHeader("Sec-Early").build(), t);
        ch.writeInbound(ascii("GET /up HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nSec-Early: !!!\r\n"
                + "Upgrade: websocket\r\n\r\n"));
        assertRejected(ch, t, 400);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // case | request (\\n replaced by CRLF) | status
        "wrong host | GET /up HTTP/1.1\\nHost: other.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 400",
        "missing host | GET /up HTTP/1.1\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 400",
        "wrong path | GET /down HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 404",
        "trailing slash | GET /up/ HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 404",
        "prefix only | GET /upx HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 404",
        "method POST | POST /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 404",
        "connection list | GET /up HTTP/1.1\\nHost: example.com\\nConnection: keep-alive, Upgrade\\n"
                + "Upgrade: websocket\\n\\n | 404",
        "no connection | GET /up HTTP/1.1\\nHost: example.com\\nUpgrade: websocket\\n\\n | 404",
        "upgrade h2c | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: h2c\\n\\n | 404",
        "no upgrade | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\n\\n | 404",
        "real websocket | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\nSec-WebSocket-Version: 13\\n\\n | 404",
        "body | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n"
                + "Content-Length: 5\\n\\nhello | 400",
        "chunked | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n"
                + "Transfer-Encoding: chunked\\n\\n0\\n\\n | 400",
        "not http | \u0016\u0003\u0001garbage\\n\\n | 400",
        "bad percent | GET /u%zz HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n | 400",
    })
    void validationRules(String name, String request, int status) {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up").host("example.com").build(), t);
        ch.writeInbound(ascii(request.replace("\\n", "\r\n")));
        assertRejected(ch, t, status);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "host case and port | GET /up HTTP/1.1\\nHost: EXAMPLE.com:8443\\nconnection: UPGRADE\\nupgrade: WebSocket\\n\\n",
        "query ignored | GET /up?ed=2048&x=1 HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n",
        "percent-encoded path | GET /%75p HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\nUpgrade: websocket\\n\\n",
        "absolute form | GET http://example.com/up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\n"
                + "Upgrade: websocket\\n\\n",
        "duplicate connection first wins | GET /up HTTP/1.1\\nHost: example.com\\nConnection: Upgrade\\n"
                + "Connection: close\\nUpgrade: websocket\\n\\n",
    })
    void acceptedVariants(String name, String request) {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up").host("example.com").build(), t);
        ch.writeInbound(ascii(request.replace("\\n", "\r\n")));
        assertEquals(RESPONSE_101, outbound(ch));
        assertNotNull(t.info);
    }

    @Test
    void requestHeadLargerThanTheLimitIs431() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        String big = "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Pad: "
                + "a".repeat(8 * 1024) + "\r\n\r\n";
        ch.writeInbound(ascii(big));
        assertRejected(ch, t, 431);
    }

    @Test
    void headJustUnderTheLimitIsAccepted() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        String head = "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Pad: ";
        String pad = "a".repeat(8 * 1024 - head.length() - 4);
        String req = head + pad + "\r\n\r\n";
        assertEquals(8 * 1024, req.length());
        ch.writeInbound(ascii(req));
        assertEquals(RESPONSE_101, outbound(ch));
    }

    @Test
    void sumOfManyHeadersOverTheLimitIs431() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up").maxRequestHeadBytes(1024).build(), t);
        StringBuilder sb = new StringBuilder("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                + "Upgrade: websocket\r\n");
        for (int i = 0; i < 60; i++) {
            sb.append("X-H").append(i).append(": 0123456789\r\n");
        }
        ch.writeInbound(ascii(sb.append("\r\n").toString()));
        assertRejected(ch, t, 431);
    }

    @Test
    void closeModeClosesWithoutAResponse() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up")
                .rejectMode(HttpUpgradeOptions.RejectMode.CLOSE).build(), t);
        ch.writeInbound(ascii("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
        assertEquals("", outbound(ch));
        assertFalse(ch.isActive());
        assertNull(t.info);
    }

    @Test
    void incompleteHeadTimesOutWithoutAResponse() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up")
                .handshakeTimeout(java.time.Duration.ofSeconds(2)).build(), t);
        ch.writeInbound(ascii("GET /up HTTP/1.1\r\nHost: x\r\n"));
        ch.advanceTimeBy(1900, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isActive());
        ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isActive());
        assertEquals("", outbound(ch));
        assertNull(t.info);
    }

    @Test
    void trustedXForwardedForBecomesTheRemoteAddress() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(HttpUpgradeOptions.builder().path("/up").trustXForwardedFor(true).build(), t);
        ch.writeInbound(ascii("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n\r\n"));
        assertEquals(new InetSocketAddress("203.0.113.7", 0), t.info.remoteAddress());
    }

    @Test
    void xForwardedForIsIgnoredByDefault() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        ch.writeInbound(ascii("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "X-Forwarded-For: 203.0.113.7\r\n\r\n"));
        assertEquals(ch.remoteAddress(), t.info.remoteAddress());
    }

    @Test
    void clientHalfCloseBeforeTheHeadIsCompleteCloses() {
        Tunnel t = new Tunnel();
        EmbeddedChannel ch = serve(opts("/up"), t);
        ch.writeInbound(ascii("GET /up HTTP/1.1\r\n"));
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        assertFalse(ch.isActive());
        assertNull(t.info);
    }

    private static void assertRejected(EmbeddedChannel ch, Tunnel t, int status) {
        String out = outbound(ch);
        assertTrue(out.startsWith("HTTP/1.1 " + status + " "), "expected " + status + ", got: " + out);
        if (status == 431 || out.contains("Connection: close")) {
            // refused by the HTTP layer itself, as Go's server does
            assertTrue(out.matches("(?s)HTTP/1\\.1 \\d{3} [^\r]+\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    + "Connection: close\r\n\r\n\\d{3} .+"), out);
        } else {
            // refused by the handler's checks, as sing-box does
            assertTrue(out.matches("(?s)HTTP/1\\.1 \\d{3} [^\r]+\r\nDate: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} "
                    + "\\d{2}:\\d{2}:\\d{2} GMT\r\nContent-Length: 0\r\n\r\n"), out);
        }
        assertFalse(ch.isActive(), "closed after the rejection");
        assertNull(t.info, "never accepted");
        assertEquals(0, t.bytes.size());
    }
}
