package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.ProxyProtocolVersion;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.BufferedSink;
import okio.BufferedSource;
import okio.Okio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real sockets on 127.0.0.1: an independent client (OkHttp 5's Upgrade with {@code Response.socket()}), a raw
 * client that pipelines 64 KiB behind its request head in one write, early data end to end, PROXY protocol and
 * X-Forwarded-For addresses, and the probe-resistance fallback.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpUpgradeSocketTest {

    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);
    private final HttpUpgradeTransportProvider provider = new HttpUpgradeTransportProvider();
    private TunnelRuntime runtime;
    private TunnelListener listener;
    private final CompletableFuture<TunnelInfo> accepted = new CompletableFuture<>();

    @BeforeEach
    void setUp() {
        runtime = TunnelRuntime.create(2);
    }

    @AfterEach
    void tearDown() {
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    /** Binds an echo server behind httpupgrade. */
    private InetSocketAddress echoServer(HttpUpgradeOptions options, ListenerConfig config) throws Exception {
        listener = provider.newListener(runtime, config, options);
        return listener.bind((ch, info) -> {
            accepted.complete(info);
            ch.pipeline().addLast(new LoopbackServers.EchoHandler());
        }).sync().getNow();
    }

    @Test
    void okHttpUpgradeAndResponseSocketCarryDataBothWays() throws Exception {
        InetSocketAddress addr = echoServer(HttpUpgradeOptions.builder().path("/hu").build(), ListenerConfig.of(ANY));
        okHttpRoundTrip(new OkHttpClient.Builder().build(), "http://127.0.0.1:" + addr.getPort() + "/hu");
    }

    @Test
    void okHttpUpgradeOverTls() throws Exception {
        InetSocketAddress addr = echoServer(HttpUpgradeOptions.builder().path("/hu").build(),
                ListenerConfig.of(ANY, ApiHarness.serverTls()));
        X509TrustManager tm = (X509TrustManager) TestPki.get().trustManagerFactory().getTrustManagers()[0];
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
        OkHttpClient client = new OkHttpClient.Builder()
                .sslSocketFactory(ssl.getSocketFactory(), tm)
                .protocols(java.util.List.of(okhttp3.Protocol.HTTP_1_1))
                .build();
        okHttpRoundTrip(client, "https://localhost:" + addr.getPort() + "/hu");
    }

    private void okHttpRoundTrip(OkHttpClient client, String url) throws Exception {
        try (Response r = client.newCall(new Request.Builder().url(url)
                .header("Connection", "Upgrade").header("Upgrade", "websocket").build()).execute()) {
            assertEquals(101, r.code());
            assertEquals("Switching Protocols", r.message());
            okio.Socket s = r.socket();
            assertNotNull(s, "OkHttp hands out the upgraded socket");
            BufferedSink sink = Okio.buffer(s.getSink());
            BufferedSource src = Okio.buffer(s.getSource());
            sink.writeUtf8("hello over httpupgrade");
            sink.flush();
            assertEquals("hello over httpupgrade", src.readUtf8(22));
            byte[] data = Digests.randomBytes(1024 * 1024, 5);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    sink.write(data);
                    sink.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = src.readByteArray(data.length);
            writer.get(20, TimeUnit.SECONDS);
            assertArrayEquals(Digests.sha256(data), Digests.sha256(back));
            s.cancel();
        }
        client.connectionPool().evictAll();
        client.dispatcher().executorService().shutdown();
    }

    @Test
    void sixtyFourKibPipelinedBehindTheHeadInOneWriteAllArrive() throws Exception {
        CompletableFuture<Digests.Result> received = new CompletableFuture<>();
        listener = provider.newListener(runtime, ListenerConfig.of(ANY), HttpUpgradeOptions.builder().path("/hu")
                .build());
        InetSocketAddress addr = listener.bind((ch, info) -> ch.pipeline().addLast(
                new io.netty.channel.ChannelInboundHandlerAdapter() {
                    final java.security.MessageDigest md = Digests.sha256();
                    long count;

                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        count += b.readableBytes();
                        Digests.update(md, b);
                        b.release();
                        if (count >= 64 * 1024) {
                            received.complete(new Digests.Result(count, md.digest()));
                            ctx.writeAndFlush(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
                        }
                    }
                })).sync().getNow();
        byte[] data = Digests.randomBytes(64 * 1024, 64);
        byte[] head = "GET /hu HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + data.length);
        System.arraycopy(data, 0, all, head.length, data.length);
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(all); // one write: head and data share segments and reads
            out.flush();
            Digests.Result r = received.get(10, TimeUnit.SECONDS);
            assertTrue(r.matches(Digests.sha256(data), data.length), r.toString());
            String response = readFully(s.getInputStream(), HttpUpgradeServerHandshakeTest.RESPONSE_101.length() + 2);
            assertEquals(HttpUpgradeServerHandshakeTest.RESPONSE_101 + "ok", response);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NONE", "XRAY_ED", "V2FLY_HEADER"})
    void firstPayloadArrivesFirstInEveryEarlyDataMode(String mode) throws Exception {
        firstPayload(HttpUpgradeOptions.EarlyData.valueOf(mode), false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"NONE", "XRAY_ED", "V2FLY_HEADER"})
    void firstPayloadArrivesFirstInEveryEarlyDataModeOverTls(String mode) throws Exception {
        firstPayload(HttpUpgradeOptions.EarlyData.valueOf(mode), true);
    }

    private void firstPayload(HttpUpgradeOptions.EarlyData mode, boolean tls) throws Exception {
        HttpUpgradeOptions options = HttpUpgradeOptions.builder().path("/ed").earlyData(mode)
                .earlyDataHeader("X-Early-Data").maxEarlyData(100).build();
        InetSocketAddress addr = echoServer(options, ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null));
        byte[] first = Digests.randomBytes(300, 1);
        byte[] second = "then more".getBytes(StandardCharsets.US_ASCII);
        Bytes c = new Bytes(first.length + second.length);
        try (TunnelDialer d = provider.newDialer(runtime, DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                options)) {
            Channel t = d.open(Unpooled.wrappedBuffer(first), (ch, info) -> ch.pipeline().addLast(c)).sync().getNow();
            t.writeAndFlush(Unpooled.wrappedBuffer(second)).sync();
            byte[] all = Arrays.copyOf(first, first.length + second.length);
            System.arraycopy(second, 0, all, first.length, second.length);
            assertArrayEquals(all, c.done.get(10, TimeUnit.SECONDS));
            t.close().sync();
        }
    }

    /** Collects what a tunnel delivers until {@code n} bytes arrived. */
    private static final class Bytes extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final int n;
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        Bytes(int n) {
            this.n = n;
        }

        @Override
        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                out.writeBytes(a);
                if (out.size() >= n) {
                    done.complete(out.toByteArray());
                }
            } finally {
                b.release();
            }
        }
    }

    @Test
    void proxyProtocolSourceIsTheTunnelsRemoteAddress() throws Exception {
        HttpUpgradeOptions options = HttpUpgradeOptions.builder().path("/pp").build();
        InetSocketAddress addr = echoServer(options, ListenerConfig.of(ANY).withAcceptProxyProtocol(true));
        try (TunnelDialer d = provider.newDialer(runtime,
                DialerConfig.of(addr).withProxyProtocol(ProxyProtocolVersion.V1), options)) {
            Channel t = d.open(TunnelInfoProbe.NONE).sync().getNow();
            TunnelInfo info = accepted.get(5, TimeUnit.SECONDS);
            assertEquals(t.localAddress(), info.remoteAddress());
            assertEquals("/pp", info.path());
            t.close().sync();
        }
    }

    @Test
    void trustedForwardedForIsTheTunnelsRemoteAddress() throws Exception {
        InetSocketAddress addr = echoServer(HttpUpgradeOptions.builder().path("/x").trustXForwardedFor(true).build(),
                ListenerConfig.of(ANY));
        HttpUpgradeOptions client = HttpUpgradeOptions.builder().path("/x")
                .header("X-Forwarded-For", "2001:db8::7, 10.0.0.1").build();
        try (TunnelDialer d = provider.newDialer(runtime, DialerConfig.of(addr), client)) {
            Channel t = d.open(TunnelInfoProbe.NONE).sync().getNow();
            assertEquals(new InetSocketAddress("2001:db8::7", 0), accepted.get(5, TimeUnit.SECONDS).remoteAddress());
            t.close().sync();
        }
    }

    /** Initializer that installs nothing. */
    private static final class TunnelInfoProbe {
        static final dev.tunnelwire.TunnelInitializer NONE = dev.tunnelwire.TunnelInitializer.NONE;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /wrong HTTP/1.1\r\nHost: decoy.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\ntrailing bytes",
        "GET /hu HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "\u0016\u0003\u0001 definitely not HTTP\r\n\r\nmore",
    })
    void rejectedConnectionsGoToTheFallbackWithEveryByte(String probe) throws Exception {
        try (LoopbackServers decoy = LoopbackServers.echo()) {
            HttpUpgradeOptions options = HttpUpgradeOptions.builder().path("/hu").fallback(decoy.address()).build();
            InetSocketAddress addr = echoServer(options, ListenerConfig.of(ANY));
            byte[] bytes = probe.getBytes(StandardCharsets.ISO_8859_1);
            try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
                // The decoy (an echo server) answers with exactly what it got: the whole probe, first byte on.
                assertEquals(probe, readFully(s.getInputStream(), bytes.length));
                s.getOutputStream().write("after".getBytes(StandardCharsets.US_ASCII));
                assertEquals("after", readFully(s.getInputStream(), 5));
                s.shutdownOutput(); // the decoy echoes the half-close
                assertEquals(-1, s.getInputStream().read());
            }
            assertTrue(!accepted.isDone(), "never accepted as a tunnel");
        }
    }

    @Test
    void fallbackOverTlsGetsThePlaintext() throws Exception {
        try (LoopbackServers decoy = LoopbackServers.echo()) {
            HttpUpgradeOptions options = HttpUpgradeOptions.builder().path("/hu").fallback(decoy.address()).build();
            InetSocketAddress addr = echoServer(options, ListenerConfig.of(ANY, ApiHarness.serverTls()));
            X509TrustManager tm = (X509TrustManager) TestPki.get().trustManagerFactory().getTrustManagers()[0];
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, new javax.net.ssl.TrustManager[] {tm}, null);
            String probe = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
            try (Socket s = ssl.getSocketFactory().createSocket("127.0.0.1", addr.getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(probe.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                assertEquals(probe, readFully(s.getInputStream(), probe.length()));
            }
            assertTrue(!accepted.isDone());
        }
    }

    @Test
    void validRequestsAreNotDiverted() throws Exception {
        try (LoopbackServers decoy = LoopbackServers.echo()) {
            HttpUpgradeOptions options = HttpUpgradeOptions.builder().path("/hu").fallback(decoy.address()).build();
            InetSocketAddress addr = echoServer(options, ListenerConfig.of(ANY));
            try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(("GET /hu HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket"
                        + "\r\n\r\nping").getBytes(StandardCharsets.US_ASCII));
                assertEquals(HttpUpgradeServerHandshakeTest.RESPONSE_101 + "ping",
                        readFully(s.getInputStream(), HttpUpgradeServerHandshakeTest.RESPONSE_101.length() + 4));
            }
            assertNotNull(accepted.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void unreachableFallbackCloses() throws Exception {
        InetSocketAddress dead;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            dead = new InetSocketAddress("127.0.0.1", ss.getLocalPort());
        }
        InetSocketAddress addr = echoServer(HttpUpgradeOptions.builder().path("/hu").fallback(dead).build(),
                ListenerConfig.of(ANY));
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void registryAndParameters() {
        HttpUpgradeTransportProvider p = (HttpUpgradeTransportProvider) TransportRegistry.defaultRegistry()
                .provider("httpupgrade");
        HttpUpgradeOptions o = p.parse(Map.of("path", "/a?ed=2048", "host", "h.example", "header.X-Thing", "1",
                "reject", "close", "handshakeTimeout", "4s", "fallback", "127.0.0.1:8080", "maxHeadSize", "12288"));
        assertEquals("/a", o.path());
        assertEquals(HttpUpgradeOptions.EarlyData.XRAY_ED, o.earlyData());
        assertEquals(Map.of("X-Thing", "1"), o.headers());
        assertEquals(HttpUpgradeOptions.RejectMode.CLOSE, o.rejectMode());
        assertEquals(java.time.Duration.ofSeconds(4), o.handshakeTimeout());
        assertEquals(8080, o.fallback().getPort());
        assertEquals(12288, o.maxRequestHeadBytes());
        IllegalArgumentException e = assertInstanceOf(IllegalArgumentException.class,
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> p.parse(Map.of("pth", "/a"))));
        assertTrue(e.getMessage().contains("pth"));
    }

    private static String readFully(InputStream in, int n) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (out.size() < n) {
            int r = in.read(buf, 0, Math.min(buf.length, n - out.size()));
            if (r < 0) {
                break;
            }
            out.write(buf, 0, r);
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
