package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.h2.H2ClientPool;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.transport.http2.Http2ProxyOptions;
import dev.tunnelwire.transport.http2.Http2ProxyTransportProvider;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The http2 handler's answers (peer-gost.md 3.3), seen by a plain Netty HTTP/2 client. */
class Http2ProxyWireTest {

    private final TunnelRuntime rt = TunnelRuntime.create(2);
    private Service service;
    private H2ClientPool pool;

    @BeforeEach
    void start() throws Exception {
        service = Service.of("h2p", new Http2ProxyTransportProvider().newListener(rt,
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), ApiHarness.serverTls()),
                        Http2ProxyOptions.defaults()),
                new Http2ProxyHandler(Authenticator.user("u", "p"), "gost"), Chain.direct(rt), ServiceOptions.defaults());
        InetSocketAddress addr = service.bind().get();
        pool = new H2ClientPool(new ClientStack(rt, DialerConfig.of(addr, ApiHarness.clientTls()),
                List.of(ApplicationProtocolNames.HTTP_2), false), H2Settings.defaults());
    }

    @AfterEach
    void stop() {
        pool.close();
        service.close();
        rt.close();
    }

    private Http2HeadersFrame request(Http2Headers h) throws Exception {
        CompletableFuture<Http2HeadersFrame> reply = new CompletableFuture<>();
        Http2StreamChannel s = pool.newStream(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame f) {
                    reply.complete(f);
                } else {
                    ReferenceCountUtil.release(msg);
                }
            }
        }).get(10, TimeUnit.SECONDS);
        s.writeAndFlush(new DefaultHttp2HeadersFrame(h, false));
        Http2HeadersFrame f = reply.get(10, TimeUnit.SECONDS);
        s.close();
        return f;
    }

    private static String basic(String user, String pass) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + pass).getBytes());
    }

    @Test
    void connectWithOnlyMethodAndAuthorityIsAccepted() throws Exception {
        try (ServerSocket target = new ServerSocket(0)) {
            Http2HeadersFrame f = request(new DefaultHttp2Headers().method("CONNECT")
                    .authority("127.0.0.1:" + target.getLocalPort()).add("proxy-authorization", basic("u", "p")));
            assertEquals("200", f.headers().status().toString());
            assertTrue(!f.isEndStream(), "a 200 keeps the stream open");
        }
    }

    @Test
    void missingCredentialsGet407WithTheRealm() throws Exception {
        Http2HeadersFrame f = request(new DefaultHttp2Headers().method("CONNECT").authority("127.0.0.1:1"));
        assertEquals("407", f.headers().status().toString());
        assertEquals("Basic realm=\"gost\"", f.headers().get("proxy-authenticate").toString());
        assertTrue(f.isEndStream());
    }

    @Test
    void unreachableTargetGets503() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Http2HeadersFrame f = request(new DefaultHttp2Headers().method("CONNECT").authority("127.0.0.1:" + closed)
                .add("proxy-authorization", basic("u", "p")));
        assertEquals("503", f.headers().status().toString());
        assertTrue(f.isEndStream());
    }

    @Test
    void otherMethodsAreForwardedAsHttp11() throws Exception {
        com.sun.net.httpserver.HttpServer origin = com.sun.net.httpserver.HttpServer.create(
                new InetSocketAddress("127.0.0.1", 0), 0);
        java.util.concurrent.atomic.AtomicReference<String> seen = new java.util.concurrent.atomic.AtomicReference<>();
        origin.createContext("/x", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            seen.set(ex.getRequestMethod() + " " + ex.getRequestURI() + " host=" + ex.getRequestHeaders().getFirst("Host")
                    + " auth=" + ex.getRequestHeaders().getFirst("Proxy-Authorization") + " body=" + new String(body));
            byte[] out = ("hello " + new String(body)).getBytes();
            ex.getResponseHeaders().add("X-Test", "yes");
            ex.sendResponseHeaders(201, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        origin.start();
        try {
            String authority = "127.0.0.1:" + origin.getAddress().getPort();
            CompletableFuture<Http2HeadersFrame> head = new CompletableFuture<>();
            StringBuilder body = new StringBuilder();
            CompletableFuture<Void> end = new CompletableFuture<>();
            Http2StreamChannel s = pool.newStream(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof Http2HeadersFrame f) {
                        head.complete(f);
                        if (f.isEndStream()) {
                            end.complete(null);
                        }
                    } else if (msg instanceof io.netty.handler.codec.http2.Http2DataFrame d) {
                        body.append(d.content().toString(java.nio.charset.StandardCharsets.US_ASCII));
                        if (d.isEndStream()) {
                            end.complete(null);
                        }
                        d.release();
                    } else {
                        ReferenceCountUtil.release(msg);
                    }
                }
            }).get(10, TimeUnit.SECONDS);
            s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http").path("/x?q=1")
                    .authority(authority).add("proxy-authorization", basic("u", "p")), false));
            s.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
                    io.netty.buffer.Unpooled.copiedBuffer("ping", java.nio.charset.StandardCharsets.US_ASCII), true));
            Http2HeadersFrame f = head.get(10, TimeUnit.SECONDS);
            assertEquals("201", f.headers().status().toString());
            assertEquals("yes", f.headers().get("x-test").toString());
            end.get(10, TimeUnit.SECONDS);
            assertEquals("hello ping", body.toString());
            assertEquals("POST /x?q=1 host=" + authority + " auth=null body=ping", seen.get(),
                    "origin form, Host from :authority, proxy-authorization removed");
            s.close();
        } finally {
            origin.stop(0);
        }
    }

    @Test
    void forwardedRequestsNeedCredentialsToo() throws Exception {
        Http2HeadersFrame f = request(new DefaultHttp2Headers().method("GET").scheme("http").path("/")
                .authority("127.0.0.1:1"));
        assertEquals("407", f.headers().status().toString());
    }
}
