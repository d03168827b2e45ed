package dev.tunnelwire.service;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.testkit.TestPki;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import okhttp3.Credentials;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.MediaType;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** OkHttp (an independent client) through our HTTP CONNECT proxy, plain HTTP proxying, and our SOCKS5 handler. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OkHttpThroughProxyTest {

    private TunnelRuntime rt;
    private EventLoopGroup originGroup;
    private Channel plainOrigin;
    private Channel tlsOrigin;
    private Service http;
    private Service socks;

    @BeforeEach
    void setUp() throws Exception {
        rt = TunnelRuntime.create(2);
        originGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        TestPki pki = TestPki.get();
        SslContext ssl = SslContextBuilder.forServer(pki.serverKey(), pki.serverCertChain()).build();
        plainOrigin = origin(null);
        tlsOrigin = origin(ssl);
        Authenticator users = Authenticator.user("alice", "s3cret");
        http = ProxyTestKit.bind("http", ProxyTestKit.TCP_PLAIN.listener(rt),
                new HttpHandler(HttpHandlerOptions.builder().authenticator(users).build()), Chain.direct(rt));
        socks = ProxyTestKit.bind("socks", ProxyTestKit.TCP_PLAIN.listener(rt),
                new Socks5Handler(Socks5HandlerOptions.defaults()), Chain.direct(rt));
    }

    @AfterEach
    void tearDown() {
        http.close();
        socks.close();
        plainOrigin.close().syncUninterruptibly();
        tlsOrigin.close().syncUninterruptibly();
        originGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        rt.close();
    }

    /** An origin that answers "<method> <uri> <body>" on 127.0.0.1. */
    private Channel origin(SslContext ssl) throws InterruptedException {
        return new ServerBootstrap().group(originGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        byte[] body = (req.method() + " " + req.uri() + " "
                                                + req.content().toString(StandardCharsets.UTF_8)
                                                + (req.headers().contains("Proxy-Authorization") ? " LEAKED" : ""))
                                                .getBytes(StandardCharsets.UTF_8);
                                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
                                        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                                        ctx.writeAndFlush(r);
                                    }
                                });
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private static int port(Channel server) {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    private OkHttpClient.Builder client(Service proxy, Proxy.Type type) throws Exception {
        TrustManager[] tms = TestPki.get().trustManagerFactory().getTrustManagers();
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tms, null);
        return new OkHttpClient.Builder()
                .proxy(new Proxy(type, new InetSocketAddress("127.0.0.1", proxy.localAddress().getPort())))
                .sslSocketFactory(ctx.getSocketFactory(), (X509TrustManager) tms[0])
                .retryOnConnectionFailure(false);
    }

    @Test
    void httpsThroughHttpConnectWithProxyAuthentication() throws Exception {
        AtomicInteger challenges = new AtomicInteger();
        OkHttpClient c = client(http, Proxy.Type.HTTP)
                .proxyAuthenticator((route, response) -> {
                    if ("OkHttp-Preemptive".equals(response.header("Proxy-Authenticate"))) {
                        return null;
                    }
                    assertEquals(407, response.code());
                    assertEquals("Basic realm=\"tunnelwire\"", response.header("Proxy-Authenticate"));
                    challenges.incrementAndGet();
                    return response.request().newBuilder()
                            .header("Proxy-Authorization", Credentials.basic("alice", "s3cret")).build();
                }).build();
        for (int i = 0; i < 3; i++) {
            try (Response r = c.newCall(new Request.Builder()
                    .url("https://localhost:" + port(tlsOrigin) + "/secure?i=" + i).build()).execute()) {
                assertEquals(200, r.code());
                assertEquals("GET /secure?i=" + i + " ", r.body().string());
            }
        }
        assertEquals(1, challenges.get(), "one 407, then the connection is reused");
    }

    @Test
    void plainHttpThroughTheProxyInOriginForm() throws Exception {
        OkHttpClient c = client(http, Proxy.Type.HTTP)
                .proxyAuthenticator((route, response) -> response.request().newBuilder()
                        .header("Proxy-Authorization", Credentials.basic("alice", "s3cret")).build()).build();
        // the origin keeps connections alive and answers with Content-Length: the proxy connection is reused
        try (Response r = c.newCall(new Request.Builder().url("http://127.0.0.1:" + port(plainOrigin) + "/p?q=1")
                .post(RequestBody.create("body!", MediaType.get("text/plain"))).build()).execute()) {
            assertEquals(200, r.code());
            assertEquals("POST /p?q=1 body!", r.body().string());
        }
        try (Response r = c.newCall(new Request.Builder().url("http://127.0.0.1:" + port(plainOrigin) + "/again")
                .build()).execute()) {
            assertEquals("GET /again ", r.body().string());
        }
    }

    @Test
    void wrongProxyCredentialsGive407() throws Exception {
        OkHttpClient c = client(http, Proxy.Type.HTTP).build();
        try (Response r = c.newCall(new Request.Builder().url("http://127.0.0.1:" + port(plainOrigin) + "/")
                .header("Proxy-Authorization", Credentials.basic("alice", "nope")).build()).execute()) {
            assertEquals(407, r.code());
        }
    }

    @Test
    void httpAndHttpsThroughSocks5() throws Exception {
        OkHttpClient c = client(socks, Proxy.Type.SOCKS).build();
        try (Response r = c.newCall(new Request.Builder().url("http://localhost:" + port(plainOrigin) + "/s")
                .build()).execute()) {
            assertEquals("GET /s ", r.body().string());
        }
        try (Response r = c.newCall(new Request.Builder().url("https://localhost:" + port(tlsOrigin) + "/t")
                .build()).execute()) {
            assertEquals("GET /t ", r.body().string());
        }
    }
}
