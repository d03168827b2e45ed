package dev.tunnelwire.internal.h2;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.ServerStack;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class H2ClientPoolTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private ServerStack server;

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        runtime.close();
    }

    /** An HTTP/2 echo server: answers HEADERS 200 and echoes DATA. */
    private InetSocketAddress startEchoServer(boolean tls, boolean ackPings) throws Exception {
        return startEchoServer(tls, ackPings, H2Settings.defaults());
    }

    private InetSocketAddress startEchoServer(boolean tls, boolean ackPings, H2Settings serverSettings)
            throws Exception {
        ListenerConfig lc = ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0),
                tls ? ApiHarness.serverTls() : null);
        server = new ServerStack(runtime, lc, List.of(ApplicationProtocolNames.HTTP_2), false);
        return server.bind(ch -> {
            ch.pipeline().addLast(ackPings ? H2Codecs.server(serverSettings)
                    : Http2FrameCodecBuilder.forServer().autoAckPingFrame(false).build());
            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                @Override
                protected void initChannel(Http2StreamChannel s) {
                    s.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof Http2HeadersFrame) {
                                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
                                        new DefaultHttp2Headers().status("200")));
                                ReferenceCountUtil.release(msg);
                            } else if (msg instanceof Http2DataFrame d) {
                                ctx.writeAndFlush(new DefaultHttp2DataFrame(d.content(), d.isEndStream()));
                            } else {
                                ReferenceCountUtil.release(msg);
                            }
                        }
                    });
                }
            }));
        }).get(5, TimeUnit.SECONDS);
    }

    private H2ClientPool pool(InetSocketAddress addr, boolean tls, H2Settings settings) {
        DialerConfig dc = DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null);
        return new H2ClientPool(new ClientStack(runtime, dc, List.of(ApplicationProtocolNames.HTTP_2), false),
                settings);
    }

    private static CompletableFuture<String> exchange(Http2StreamChannel s, String text) {
        return exchange(s, text, true);
    }

    private static CompletableFuture<String> exchange(Http2StreamChannel s, String text, boolean endStream) {
        CompletableFuture<String> reply = new CompletableFuture<>();
        s.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2DataFrame d) {
                    reply.complete(d.content().toString(StandardCharsets.US_ASCII));
                }
                ReferenceCountUtil.release(msg);
            }
        });
        s.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("PUT").path("/").scheme("https")
                .authority("localhost")));
        s.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII),
                endStream));
        return reply;
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void hundredStreamsShareOneConnection(boolean tls) throws Exception {
        InetSocketAddress addr = startEchoServer(tls, true);
        try (H2ClientPool pool = pool(addr, tls, H2Settings.defaults())) {
            List<CompletableFuture<String>> replies = new ArrayList<>();
            Set<Channel> parents = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                Http2StreamChannel s = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
                parents.add(s.parent());
                replies.add(exchange(s, "m" + i));
            }
            for (int i = 0; i < 100; i++) {
                assertEquals("m" + i, replies.get(i).get(10, TimeUnit.SECONDS));
            }
            assertEquals(1, parents.size(), "all streams on one pooled connection");
        }
    }

    @Test
    void theServersStreamLimitOpensAnotherConnection() throws Exception {
        // the server allows 4 concurrent streams; 10 tunnels that stay open need 3 connections, and the 5th tunnel
        // must not wait forever for a slot on the first
        InetSocketAddress addr = startEchoServer(false, true, H2Settings.builder().maxConcurrentStreams(4).build());
        try (H2ClientPool pool = pool(addr, false, H2Settings.defaults())) {
            List<CompletableFuture<String>> replies = new ArrayList<>();
            List<Http2StreamChannel> streams = new ArrayList<>();
            Set<Channel> parents = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                Http2StreamChannel s = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
                streams.add(s);
                parents.add(s.parent());
                replies.add(exchange(s, "m" + i, false));
            }
            for (int i = 0; i < 10; i++) {
                assertEquals("m" + i, replies.get(i).get(10, TimeUnit.SECONDS), "tunnel " + (i + 1));
            }
            assertEquals(3, parents.size(), "4 + 4 + 2 streams");
            assertEquals(3, pool.connectionCount());
            // a closed stream frees its slot: the next tunnel goes to the first connection again
            Channel first = streams.get(0).parent();
            streams.get(0).close().sync();
            Http2StreamChannel again = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
            assertEquals(first, again.parent());
            assertEquals("x", exchange(again, "x", false).get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void brokenConnectionIsReplaced() throws Exception {
        InetSocketAddress addr = startEchoServer(false, true);
        try (H2ClientPool pool = pool(addr, false, H2Settings.defaults())) {
            Http2StreamChannel s1 = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
            assertEquals("a", exchange(s1, "a").get(10, TimeUnit.SECONDS));
            Channel first = s1.parent();
            first.close().sync();
            assertTrue(s1.closeFuture().await(2000), "streams close with their connection");
            Http2StreamChannel s2 = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
            assertNotSame(first, s2.parent());
            assertEquals("b", exchange(s2, "b").get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void unansweredPingClosesTheConnectionAndItsTunnels() throws Exception {
        InetSocketAddress addr = startEchoServer(false, false);
        H2Settings s = H2Settings.builder().idleTimeout(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(300))
                .build();
        try (H2ClientPool pool = pool(addr, false, s)) {
            Http2StreamChannel st = pool.newStream(new ChannelInboundHandlerAdapter()).get(10, TimeUnit.SECONDS);
            st.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("PUT").path("/")
                    .scheme("http").authority("x")));
            assertTrue(st.parent().closeFuture().await(3000), "connection closed after the missed PING");
            assertTrue(st.closeFuture().await(1000), "its tunnel fails fast");
        }
    }

    @Test
    void answeredPingsKeepAnIdleConnectionOpen() throws Exception {
        InetSocketAddress addr = startEchoServer(false, true);
        H2Settings s = H2Settings.builder().idleTimeout(Duration.ofMillis(100)).pingTimeout(Duration.ofMillis(500))
                .build();
        try (H2ClientPool pool = pool(addr, false, s)) {
            Channel conn = pool.connection().get(10, TimeUnit.SECONDS);
            Thread.sleep(1200);
            assertTrue(conn.isActive());
            ByteBuf unused = Unpooled.EMPTY_BUFFER;
            assertEquals(0, unused.readableBytes());
        }
    }
}
