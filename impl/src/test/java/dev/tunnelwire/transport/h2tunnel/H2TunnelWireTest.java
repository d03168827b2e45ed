package dev.tunnelwire.transport.h2tunnel;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.LoopbackServers;
import io.netty.handler.codec.http2.Http2Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Header sets and status codes of the h2/h2c tunnel (peer-gost.md section 4), and OkHttp as an independent client. */
class H2TunnelWireTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private TunnelListener listener;

    @AfterEach
    void tearDown() {
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    private InetSocketAddress start(H2TunnelOptions o) throws Exception {
        listener = new H2TunnelTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), o);
        return listener.bind((ch, info) -> ch.pipeline().addLast(new LoopbackServers.EchoHandler())).get();
    }

    @Test
    void connectModeSendsOnlyMethodAndAuthority() {
        H2TunnelDialer d = new H2TunnelDialer(runtime, DialerConfig.of(new InetSocketAddress("127.0.0.1", 8443)),
                H2TunnelOptions.defaults());
        Http2Headers h = d.requestHeaders();
        assertEquals("CONNECT", h.method().toString());
        assertEquals("127.0.0.1:8443", h.authority().toString(), ":authority is the node, not a target");
        assertNull(h.scheme(), "Go's server resets a CONNECT carrying :scheme");
        assertNull(h.path(), "Go's server resets a CONNECT carrying :path");
        assertEquals("Go-http-client/2.0", h.get("user-agent").toString());
    }

    @Test
    void pathModeSendsGetWithSchemeAndPath() {
        H2TunnelDialer d = new H2TunnelDialer(runtime, DialerConfig.of(new InetSocketAddress("127.0.0.1", 8080)),
                H2TunnelOptions.builder().path("/h2").host("tunnel.example").header("X-Custom", "v").build());
        Http2Headers h = d.requestHeaders();
        assertEquals("GET", h.method().toString());
        assertEquals("http", h.scheme().toString());
        assertEquals("/h2", h.path().toString());
        assertEquals("tunnel.example", h.authority().toString());
        assertEquals("v", h.get("x-custom").toString(), "header names lower-cased");
    }

    @Test
    void connectOnlyServerAnswers405ToOtherMethods() throws Exception {
        InetSocketAddress addr = start(H2TunnelOptions.defaults());
        assertEquals(405, dialStatus(addr, H2TunnelOptions.builder().path("/x").build()));
    }

    @Test
    void pathServerAnswers400ToAnotherPath() throws Exception {
        InetSocketAddress addr = start(H2TunnelOptions.builder().path("/h2").build());
        assertEquals(400, dialStatus(addr, H2TunnelOptions.builder().path("/h2?x=1").build()), "exact match");
        assertEquals(400, dialStatus(addr, H2TunnelOptions.defaults()), "CONNECT without :path");
    }

    private int dialStatus(InetSocketAddress addr, H2TunnelOptions o) throws Exception {
        try (TunnelDialer d = new H2TunnelTransportProvider().newDialer(runtime, DialerConfig.of(addr), o)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> d.open((ch, info) -> { }).get(10, TimeUnit.SECONDS));
            return assertInstanceOf(HandshakeException.class, e.getCause()).status();
        }
    }

    @Test
    void okHttpPriorKnowledgeDuplexBodyOnAPathTunnel() throws Exception {
        InetSocketAddress addr = start(H2TunnelOptions.builder().path("/h2").build());
        OkHttpClient client = new OkHttpClient.Builder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build();
        try {
            CompletableFuture<BufferedSink> sink = new CompletableFuture<>();
            RequestBody body = new RequestBody() {
                @Override
                public MediaType contentType() {
                    return null;
                }

                @Override
                public boolean isDuplex() {
                    return true;
                }

                @Override
                public void writeTo(BufferedSink s) {
                    sink.complete(s);
                }
            };
            try (Response r = client.newCall(new Request.Builder().url("http://127.0.0.1:" + addr.getPort() + "/h2")
                    .post(body).build()).execute()) {
                assertEquals(200, r.code());
                BufferedSink out = sink.get(5, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) {
                    out.writeUtf8("ping-" + i);
                    out.flush();
                    assertEquals("ping-" + i, r.body().source().readUtf8(6));
                }
                out.close();
            }
        } finally {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }
}
