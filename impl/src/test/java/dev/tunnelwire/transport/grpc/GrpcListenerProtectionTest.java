package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.h2.H2Codecs;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The listener's HTTP/2 protections, seen from a raw Netty HTTP/2 client: rapid reset (CVE-2023-44487). */
class GrpcListenerProtectionTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    @Test
    void rapidResetGetsGoAwayEnhanceYourCalm() throws Exception {
        AtomicInteger accepted = new AtomicInteger();
        TunnelListener l = new GrpcTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), GrpcOptions.defaults());
        InetSocketAddress addr = l.bind((ch, info) -> accepted.incrementAndGet()).sync().getNow();
        CompletableFuture<Http2GoAwayFrame> goAway = new CompletableFuture<>();
        Channel conn = new Bootstrap().group(runtime.group()).channel(runtime.socketChannelType())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2GoAwayFrame g) {
                                    goAway.complete(g.retain());
                                }
                                ReferenceCountUtil.release(msg);
                            }
                        });
                    }
                }).connect(addr).sync().channel();
        try {
            int n = H2Codecs.MAX_RST_FRAMES_PER_WINDOW + 100;
            int sent = 0;
            for (; sent < n && conn.isActive(); sent++) {
                io.netty.util.concurrent.Future<Http2StreamChannel> open =
                        new Http2StreamChannelBootstrap(conn).open().await();
                if (!open.isSuccess()) {
                    break;
                }
                Http2StreamChannel s = open.getNow();
                s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http")
                        .path("//Tun").authority("x").set("content-type", "application/grpc"), false));
                if (!s.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL)).await().isSuccess()) {
                    break;
                }
            }
            // The server cuts the connection off: GOAWAY(ENHANCE_YOUR_CALM), then close. (The GOAWAY itself may be
            // lost to the TCP reset that follows while we are still writing, so the close is what is required.)
            assertTrue(conn.closeFuture().await(10, TimeUnit.SECONDS), "the server closes the connection");
            assertTrue(accepted.get() < n, "all " + n + " rapidly reset calls were served");
            if (goAway.isDone()) {
                assertEquals(Http2Error.ENHANCE_YOUR_CALM.code(), goAway.getNow(null).errorCode());
            }
        } finally {
            conn.close().sync();
            Http2GoAwayFrame late = goAway.getNow(null);
            if (late != null && late.refCnt() > 0) {
                late.release();
            }
            l.close();
        }
    }
}
