package dev.tunnelwire.proxy.http2;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.h2.H2ClientPool;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Outbound;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.transport.http2.Http2ProxyOptions;
import dev.tunnelwire.transport.http2.Http2ProxyTransportProvider;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A request other than CONNECT on the http2 proxy whose target ends without a (complete) answer: the stream must
 * get {@code :status 503} with END_STREAM when nothing was answered (never a DATA END_STREAM without HEADERS, never a
 * stream left open), a reset when the response was cut short, and the upstream socket must close.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2PlainForwarderCloseTest {

    private final TunnelRuntime rt = TunnelRuntime.create(2);
    private final EventLoopGroup targetGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final AtomicInteger openUpstreams = new AtomicInteger();
    private volatile String targetMode = "ok";
    private Channel target;
    private Service service;
    private H2ClientPool pool;

    @BeforeEach
    void start() throws Exception {
        target = new ServerBootstrap().group(targetGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Target());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        Chain direct = Chain.direct(rt);
        Outbound counting = new Outbound() {
            @Override
            public Future<Channel> connect(Destination destination, ByteBuf firstPayload) {
                Future<Channel> f = direct.connect(destination, firstPayload);
                f.addListener(x -> {
                    if (x.isSuccess()) {
                        openUpstreams.incrementAndGet();
                        f.getNow().closeFuture().addListener(y -> openUpstreams.decrementAndGet());
                    }
                });
                return f;
            }

            @Override
            public boolean benefitsFromFirstPayload() {
                return false;
            }
        };
        service = Service.of("h2p", new Http2ProxyTransportProvider().newListener(rt,
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), ApiHarness.serverTls()),
                        Http2ProxyOptions.defaults()),
                new Http2ProxyHandler(null, null), counting, ServiceOptions.defaults());
        InetSocketAddress addr = service.bind().get();
        pool = new H2ClientPool(new ClientStack(rt, DialerConfig.of(addr, ApiHarness.clientTls()),
                List.of(ApplicationProtocolNames.HTTP_2), false), H2Settings.defaults());
    }

    @AfterEach
    void stop() {
        pool.close();
        service.close();
        target.close().syncUninterruptibly();
        targetGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        rt.close();
    }

    /** Answers, closes silently or truncates once the request head is complete. */
    private final class Target extends ChannelInboundHandlerAdapter {
        private final StringBuilder head = new StringBuilder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            head.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
            if (!head.toString().contains("\r\n\r\n")) {
                return;
            }
            String answer = switch (targetMode) {
                case "ok" -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
                case "truncate" -> "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi";
                default -> null;
            };
            if (answer == null) {
                ctx.close();
            } else {
                ctx.writeAndFlush(Unpooled.copiedBuffer(answer, StandardCharsets.ISO_8859_1))
                        .addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    /** Sends a GET (HEADERS with END_STREAM) and returns the frames the stream got until it closed. */
    private List<String> get() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        Http2StreamChannel s = pool.newStream(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame f) {
                    frames.add("HEADERS " + f.headers().status() + (f.isEndStream() ? " END_STREAM" : ""));
                } else if (msg instanceof Http2DataFrame d) {
                    frames.add("DATA " + d.content().toString(StandardCharsets.ISO_8859_1)
                            + (d.isEndStream() ? " END_STREAM" : ""));
                }
                ReferenceCountUtil.release(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof Http2ResetFrame r) {
                    frames.add("RST_STREAM");
                }
                ReferenceCountUtil.release(evt);
            }
        }).get(10, TimeUnit.SECONDS);
        int port = ((InetSocketAddress) target.localAddress()).getPort();
        s.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET").scheme("http")
                .path("/x").authority("127.0.0.1:" + port), true));
        if (!s.closeFuture().await(10, TimeUnit.SECONDS)) {
            s.close();
            fail("stream still open after 10 s; frames: " + frames);
        }
        return frames;
    }

    private void awaitUpstreamsClosed() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openUpstreams.get() != 0) {
            if (System.nanoTime() > deadline) {
                fail("upstream connections still open: " + openUpstreams.get());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void answeredRequestsCloseTheirUpstreams() throws Exception {
        for (int i = 0; i < 50; i++) {
            List<String> frames = get();
            assertEquals("HEADERS 200", frames.get(0), frames.toString());
            assertTrue(frames.get(frames.size() - 1).endsWith(" END_STREAM"), frames.toString());
            assertEquals("hi", String.join("", frames.subList(1, frames.size())).replace("DATA ", "")
                    .replace(" END_STREAM", ""), frames.toString());
        }
        awaitUpstreamsClosed();
    }

    @Test
    void targetThatClosesWithoutAnsweringGives503() throws Exception {
        targetMode = "silent";
        for (int i = 0; i < 20; i++) {
            assertEquals(List.of("HEADERS 503 END_STREAM"), get());
        }
        awaitUpstreamsClosed();
    }

    @Test
    void targetThatClosesInTheMiddleOfTheResponseResetsTheStream() throws Exception {
        targetMode = "truncate";
        List<String> frames = get();
        assertEquals("HEADERS 200", frames.get(0), frames.toString());
        assertEquals("RST_STREAM", frames.get(frames.size() - 1), frames.toString());
        assertTrue(frames.stream().noneMatch(f -> f.endsWith("END_STREAM")), frames.toString());
        awaitUpstreamsClosed();
    }
}
