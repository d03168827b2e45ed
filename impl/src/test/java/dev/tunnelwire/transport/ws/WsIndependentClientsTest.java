package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.TestPki;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;
import okio.ByteString;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.handshake.ServerHandshake;
import org.java_websocket.protocols.IProtocol;
import org.java_websocket.protocols.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Independent WebSocket clients (Java-WebSocket 1.6.0 and OkHttp 5) against our listener, which echoes the tunnel:
 * plain and TLS, with and without early data in {@code Sec-WebSocket-Protocol}, 1 MiB messages each way, and a text
 * message in each {@link WsOptions.TextFrames} mode.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WsIndependentClientsTest {

    private static final byte[] EARLY = "early-bytes".getBytes(StandardCharsets.US_ASCII);
    private static final String TOKEN = Base64.getUrlEncoder().withoutPadding().encodeToString(EARLY);

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private TunnelListener listener;

    @AfterEach
    void tearDown() {
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    private URI start(boolean tls, WsOptions.TextFrames text) throws Exception {
        listener = new WsTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                WsOptions.builder().path("/ws").textFrames(text).build());
        listener.bind((ch, info) -> ch.pipeline().addLast(new WsEndToEndTest.Echo())).sync();
        return URI.create((tls ? "wss://localhost:" : "ws://127.0.0.1:") + listener.localAddress().getPort() + "/ws");
    }

    private static SSLContext sslContext() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, TestPki.get().trustManagerFactory().getTrustManagers(), null);
        return ctx;
    }

    /** What an independent client received, as binary; text messages are recorded as "T:" + text. */
    static final class Received {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        volatile CompletableFuture<byte[]> until = new CompletableFuture<>();
        volatile int expected = Integer.MAX_VALUE;

        synchronized void add(byte[] b) {
            bytes.writeBytes(b);
            if (bytes.size() >= expected) {
                until.complete(bytes.toByteArray());
            }
        }

        synchronized CompletableFuture<byte[]> expect(int total) {
            expected = total;
            until = new CompletableFuture<>();
            if (bytes.size() >= total) {
                until.complete(bytes.toByteArray());
            }
            return until;
        }
    }

    /** A minimal uniform view of the two clients. */
    interface Client extends AutoCloseable {
        void sendBinary(byte[] b);

        void sendText(String s);

        String protocol();

        @Override
        void close();
    }

    private Client javaWebSocket(URI uri, boolean tls, boolean early, Received r) throws Exception {
        Draft_6455 draft = early
                ? new Draft_6455(List.of(), List.<IProtocol>of(new Protocol(TOKEN)))
                : new Draft_6455();
        WebSocketClient c = new WebSocketClient(uri, draft, Map.of("X-Custom", "v"), 5000) {
            @Override
            public void onOpen(ServerHandshake h) {
            }

            @Override
            public void onMessage(String m) {
                r.add(("T:" + m).getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void onMessage(ByteBuffer b) {
                byte[] a = new byte[b.remaining()];
                b.get(a);
                r.add(a);
            }

            @Override
            public void onClose(int code, String reason, boolean remote) {
            }

            @Override
            public void onError(Exception e) {
            }
        };
        if (tls) {
            c.setSocketFactory(sslContext().getSocketFactory());
        }
        assertTrue(c.connectBlocking(10, TimeUnit.SECONDS), "Java-WebSocket connected");
        return new Client() {
            public void sendBinary(byte[] b) {
                c.send(b);
            }

            public void sendText(String s) {
                c.send(s);
            }

            public String protocol() {
                String p = c.getProtocol() == null ? "" : c.getProtocol().getProvidedProtocol();
                return p.isEmpty() ? null : p;
            }

            public void close() {
                try {
                    c.closeBlocking();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }

    private Client okHttp(URI uri, boolean tls, boolean early, Received r) throws Exception {
        OkHttpClient.Builder b = new OkHttpClient.Builder();
        if (tls) {
            b.sslSocketFactory(sslContext().getSocketFactory(),
                    (X509TrustManager) TestPki.get().trustManagerFactory().getTrustManagers()[0]);
        }
        OkHttpClient client = b.build();
        Request.Builder rb = new Request.Builder().url(uri.toString()).header("X-Custom", "v");
        if (early) {
            rb.header("Sec-WebSocket-Protocol", TOKEN);
        }
        CompletableFuture<Response> opened = new CompletableFuture<>();
        WebSocket ws = client.newWebSocket(rb.build(), new WebSocketListener() {
            @Override
            public void onOpen(WebSocket webSocket, Response response) {
                opened.complete(response);
            }

            @Override
            public void onMessage(WebSocket webSocket, ByteString bytes) {
                r.add(bytes.toByteArray());
            }

            @Override
            public void onMessage(WebSocket webSocket, String text) {
                r.add(("T:" + text).getBytes(StandardCharsets.UTF_8));
            }

            @Override
            public void onFailure(WebSocket webSocket, Throwable t, Response response) {
                opened.completeExceptionally(t);
            }
        });
        Response res = opened.get(10, TimeUnit.SECONDS);
        return new Client() {
            public void sendBinary(byte[] b) {
                assertTrue(ws.send(ByteString.of(b)));
            }

            public void sendText(String s) {
                assertTrue(ws.send(s));
            }

            public String protocol() {
                return res.header("Sec-WebSocket-Protocol");
            }

            public void close() {
                ws.close(1000, null);
                client.dispatcher().executorService().shutdown();
                client.connectionPool().evictAll();
            }
        };
    }

    private Client connect(String which, URI uri, boolean tls, boolean early, Received r) throws Exception {
        return which.equals("okhttp") ? okHttp(uri, tls, early, r) : javaWebSocket(uri, tls, early, r);
    }

    @ParameterizedTest(name = "{0} tls={1} earlyData={2}")
    @CsvSource({
            "java-websocket, false, false", "java-websocket, false, true",
            "java-websocket, true, false", "java-websocket, true, true",
            "okhttp, false, false", "okhttp, false, true",
            "okhttp, true, false", "okhttp, true, true"})
    void echoWithOneMebibyteMessages(String which, boolean tls, boolean early) throws Exception {
        URI uri = start(tls, WsOptions.TextFrames.DATA);
        Received r = new Received();
        try (Client c = connect(which, uri, tls, early, r)) {
            int offset = 0;
            if (early) {
                assertEquals(TOKEN, c.protocol(), "the 101 echoes the early-data protocol");
                assertArrayEquals(EARLY, r.expect(EARLY.length).get(10, TimeUnit.SECONDS),
                        "early data is delivered to the tunnel first");
                offset = EARLY.length;
            } else {
                assertEquals(null, c.protocol());
            }
            byte[] mib = new byte[1024 * 1024];
            new java.util.Random(9).nextBytes(mib);
            c.sendBinary(mib);
            byte[] got = r.expect(offset + mib.length).get(30, TimeUnit.SECONDS);
            assertArrayEquals(mib, java.util.Arrays.copyOfRange(got, offset, got.length),
                    "1 MiB echoed (one 1 MiB frame each way)");
        }
    }

    @ParameterizedTest(name = "{0} textFrames={1}")
    @CsvSource({"java-websocket, DATA", "java-websocket, DISCARD", "okhttp, DATA", "okhttp, DISCARD"})
    void textFrames(String which, WsOptions.TextFrames mode) throws Exception {
        URI uri = start(false, mode);
        Received r = new Received();
        try (Client c = connect(which, uri, false, false, r)) {
            c.sendText("text");
            c.sendBinary(new byte[] {'!'});
            String expected = mode == WsOptions.TextFrames.DATA ? "text!" : "!";
            byte[] got = r.expect(expected.length()).get(10, TimeUnit.SECONDS);
            assertEquals(expected, new String(got, StandardCharsets.UTF_8),
                    "text payload echoed as binary data, or dropped");
        }
    }
}
