package dev.tunnelwire.transport.http;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.TestPki;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An independent client, OkHttp 5, against our server: HTTP/2 over TLS (ALPN) and h2c with prior knowledge, each with
 * a duplex request body carrying data both ways, plus rejections; and an HTTP/1.1 request whose
 * {@code Content-Length} body becomes the first tunnel bytes.
 */
class HttpOkHttpServerTest {

    private static final HttpOptions SERVER = HttpOptions.builder().path("/tun").method("PUT")
            .header("X-Server", "tw").build();

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<TunnelInfo> accepted = new CopyOnWriteArrayList<>();
    private TunnelListener listener;
    private OkHttpClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.dispatcher().executorService().shutdownNow();
            client.connectionPool().evictAll();
        }
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    /** Echoes, and answers a half-close with its own once the echo is flushed. */
    static final class HalfCloseEcho extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                Tunnels.shutdownOutput(ctx.channel());
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private int start(boolean tls) throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null), SERVER);
        return listener.bind((ch, info) -> {
            accepted.add(info);
            ch.pipeline().addLast(new HalfCloseEcho());
        }).get(5, TimeUnit.SECONDS).getPort();
    }

    private OkHttpClient client(boolean tls) throws Exception {
        OkHttpClient.Builder b = new OkHttpClient.Builder().readTimeout(10, TimeUnit.SECONDS);
        if (tls) {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, TestPki.get().trustManagerFactory().getTrustManagers(), null);
            X509TrustManager tm = (X509TrustManager) TestPki.get().trustManagerFactory().getTrustManagers()[0];
            b.sslSocketFactory(ssl.getSocketFactory(), tm).protocols(List.of(Protocol.HTTP_2, Protocol.HTTP_1_1));
        } else {
            b.protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE));
        }
        client = b.build();
        return client;
    }

    /** A request body that stays open: the test writes to its sink while reading the response. */
    static final class DuplexBody extends RequestBody {
        final CompletableFuture<BufferedSink> sink = new CompletableFuture<>();

        @Override
        public MediaType contentType() {
            return MediaType.get("application/octet-stream");
        }

        @Override
        public boolean isDuplex() {
            return true;
        }

        @Override
        public void writeTo(BufferedSink s) {
            sink.complete(s);
        }
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void duplexStreamCarriesDataBothWaysAndHalfCloses(boolean tls) throws Exception {
        int port = start(tls);
        OkHttpClient c = client(tls);
        DuplexBody body = new DuplexBody();
        String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + port + "/tun/abc?x=1";
        try (Response r = c.newCall(new Request.Builder().url(url).header("X-Custom", "v1").put(body).build())
                .execute()) {
            assertEquals(200, r.code());
            assertEquals(tls ? Protocol.HTTP_2 : Protocol.H2_PRIOR_KNOWLEDGE, r.protocol());
            assertEquals("no-store", r.header("cache-control"));
            assertEquals("tw", r.header("x-server"));
            BufferedSink out = body.sink.get(5, TimeUnit.SECONDS);
            BufferedSource in = r.body().source();
            for (int i = 0; i < 3; i++) {
                String msg = "chunk-" + i;
                out.writeUtf8(msg);
                out.flush();
                assertEquals(msg, in.readUtf8(msg.length()));
            }
            // 1 MiB each way, written from another thread while this one reads the echo.
            byte[] data = Digests.randomBytes(1024 * 1024, 5);
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                Future<?> w = writer.submit(() -> {
                    out.write(data);
                    out.flush();
                    return null;
                });
                byte[] echoed = in.readByteArray(data.length);
                w.get(10, TimeUnit.SECONDS);
                assertArrayEquals(Digests.sha256(data), Digests.sha256(echoed));
            } finally {
                writer.shutdownNow();
            }
            out.close(); // END_STREAM: the server's echo answers with its own
            assertTrue(in.exhausted(), "the server ended its side after ours");
        }
        assertEquals(1, accepted.size());
        assertEquals("/tun/abc?x=1", accepted.get(0).path());
        assertEquals("v1", accepted.get(0).headers().get("x-custom"));
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void wrongPathAndMethodGet404WithoutBody(boolean tls) throws Exception {
        int port = start(tls);
        OkHttpClient c = client(tls);
        String base = (tls ? "https://localhost:" : "http://127.0.0.1:") + port;
        try (Response r = c.newCall(new Request.Builder().url(base + "/other")
                .put(RequestBody.create(new byte[0])).build()).execute()) {
            assertEquals(404, r.code());
            assertEquals(0, r.body().bytes().length);
        }
        try (Response r = c.newCall(new Request.Builder().url(base + "/tun").get().build()).execute()) {
            assertEquals(404, r.code());
        }
        assertTrue(accepted.isEmpty());
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void http11BodyBecomesTheFirstTunnelBytes(boolean tls) throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null), SERVER);
        int port = listener.bind((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                // Echo what arrived, then end the tunnel: the client reads the body until the close.
                ctx.writeAndFlush(msg).addListener(f -> ctx.close());
            }
        })).get(5, TimeUnit.SECONDS).getPort();
        OkHttpClient.Builder b = new OkHttpClient.Builder().readTimeout(10, TimeUnit.SECONDS);
        if (tls) {
            // HTTP/1.1 over TLS (ALPN http/1.1): sing-box's server takes it too, through the same code path.
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, TestPki.get().trustManagerFactory().getTrustManagers(), null);
            b.sslSocketFactory(ssl.getSocketFactory(),
                    (X509TrustManager) TestPki.get().trustManagerFactory().getTrustManagers()[0])
                    .protocols(List.of(Protocol.HTTP_1_1));
        }
        client = b.build();
        String url = (tls ? "https://localhost:" : "http://127.0.0.1:") + port + "/tun";
        try (Response r = client.newCall(new Request.Builder().url(url)
                .put(RequestBody.create("hello".getBytes(StandardCharsets.US_ASCII))).build()).execute()) {
            assertEquals(200, r.code());
            assertEquals(Protocol.HTTP_1_1, r.protocol());
            assertEquals("hello", r.body().string());
        }
    }
}
