package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.HandshakeException;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ServerStack;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the dialer puts on the wire, checked with a bare Netty HTTP/2 server that never answers. */
class GrpcDialerTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private ServerStack server;
    private final CompletableFuture<Http2Headers> requestHeaders = new CompletableFuture<>();
    private final CompletableFuture<String> firstData = new CompletableFuture<>();

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        runtime.close();
    }

    /** Records the request HEADERS and the first DATA of the first stream; sends no response at all. */
    private InetSocketAddress silentServer(boolean tls, List<String> alpn) throws Exception {
        server = new ServerStack(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0),
                tls ? ApiHarness.serverTls() : null), alpn, false);
        return server.bind(ch -> {
            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel s) {
                    s.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof Http2HeadersFrame h) {
                                requestHeaders.complete(h.headers());
                            } else if (msg instanceof Http2DataFrame d) {
                                firstData.complete(ByteBufUtil.hexDump(d.content()));
                            }
                            ReferenceCountUtil.release(msg);
                        }
                    });
                }
            }));
        }).sync().getNow();
    }

    @Test
    void sendsGrpcRequestHeadersAndTheFirstMessageWithoutWaitingForAResponse() throws Exception {
        InetSocketAddress addr = silentServer(false, List.of());
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime, DialerConfig.of(addr),
                GrpcOptions.builder().serviceName("gunsvc").build());
        try {
            Channel t = d.open(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII),
                    (ch, info) -> { }).get(5, TimeUnit.SECONDS);
            Http2Headers h = requestHeaders.get(5, TimeUnit.SECONDS);
            assertEquals("POST", h.method().toString());
            assertEquals("http", h.scheme().toString());
            assertEquals("/gunsvc/Tun", h.path().toString());
            assertEquals("127.0.0.1:" + addr.getPort(), h.authority().toString());
            assertEquals("application/grpc", h.get("content-type").toString());
            assertEquals("trailers", h.get("te").toString());
            assertEquals(GrpcOptions.DEFAULT_GUN_USER_AGENT, h.get("user-agent").toString());
            assertEquals("00000000070a0568656c6c6f", firstData.get(5, TimeUnit.SECONDS));
            t.close().sync();
        } finally {
            d.close();
        }
    }

    @Test
    void tlsUsesSchemeHttpsAndTheServerNameAsAuthorityUnlessConfigured() throws Exception {
        InetSocketAddress addr = silentServer(true, List.of("h2"));
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime, DialerConfig.of(addr, ApiHarness.clientTls()),
                GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).userAgent("").build());
        try {
            d.open((ch, info) -> { }).get(5, TimeUnit.SECONDS);
            Http2Headers h = requestHeaders.get(5, TimeUnit.SECONDS);
            assertEquals("https", h.scheme().toString());
            assertEquals("/GostTunel/Tunnel", h.path().toString());
            assertEquals("127.0.0.1", h.authority().toString());
            assertNull(h.get("user-agent"));
        } finally {
            d.close();
        }
    }

    @Test
    void tlsRequiresAlpnH2() throws Exception {
        InetSocketAddress addr = silentServer(true, List.of("http/1.1"));
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime, DialerConfig.of(addr, ApiHarness.clientTls()),
                GrpcOptions.defaults());
        try {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> d.open((ch, info) -> { }).get(5, TimeUnit.SECONDS));
            assertInstanceOf(HandshakeException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("ALPN h2"), e.getCause().getMessage());
            assertFalse(requestHeaders.isDone());
        } finally {
            d.close();
        }
    }

    @Test
    void opensOverACarrierChannel() throws Exception {
        TunnelListener l = new GrpcTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), ApiHarness.serverTls()),
                GrpcOptions.defaults());
        InetSocketAddress addr = l.bind((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
            }
        })).sync().getNow();
        TunnelDialer tcp = new TcpTransportProvider().newDialer(runtime, DialerConfig.of(addr), TcpOptions.defaults());
        TunnelDialer grpc = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, ApiHarness.clientTls()), GrpcOptions.defaults());
        try {
            Channel carrier = tcp.open((ch, info) -> { }).get(5, TimeUnit.SECONDS);
            CompletableFuture<String> echoed = new CompletableFuture<>();
            Channel t = grpc.openOver(carrier, Unpooled.copiedBuffer("over", StandardCharsets.US_ASCII),
                    (ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            echoed.complete(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                            ReferenceCountUtil.release(msg);
                        }
                    })).get(5, TimeUnit.SECONDS);
            assertEquals("over", echoed.get(5, TimeUnit.SECONDS));
            t.close().sync();
            assertTrue(carrier.closeFuture().await(2, TimeUnit.SECONDS), "the carrier closes with its tunnel");
        } finally {
            tcp.close();
            grpc.close();
            l.close();
        }
    }

    @Test
    void proxyProtocolAddressBecomesTheTunnelsRemoteAddress() throws Exception {
        CompletableFuture<dev.tunnelwire.TunnelInfo> seen = new CompletableFuture<>();
        TunnelListener l = new GrpcTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)).withAcceptProxyProtocol(true),
                GrpcOptions.defaults());
        InetSocketAddress addr = l.bind((ch, info) -> seen.complete(info)).sync().getNow();
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(addr).withProxyProtocol(dev.tunnelwire.ProxyProtocolVersion.V2), GrpcOptions.defaults());
        try {
            Channel t = d.open(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII), (ch, info) -> { })
                    .get(5, TimeUnit.SECONDS);
            dev.tunnelwire.TunnelInfo info = seen.get(5, TimeUnit.SECONDS);
            assertEquals(t.parent().localAddress(), info.remoteAddress());
            assertEquals("//Tun", info.path());
        } finally {
            d.close();
            l.close();
        }
    }
}
