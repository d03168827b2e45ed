package dev.tunnelwire.transport.http;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.Http2StreamChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Listener and dialer behaviour beyond the contract: server idle GOAWAY, X-Forwarded-For, dialing over a carrier. */
class HttpListenerDialerTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<TunnelInfo> accepted = new CopyOnWriteArrayList<>();
    private TunnelListener listener;
    private TunnelDialer dialer;

    @AfterEach
    void tearDown() {
        if (dialer != null) {
            dialer.close();
        }
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    private InetSocketAddress startEcho(HttpOptions options, boolean tls) throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                options);
        return listener.bind((ch, info) -> {
            accepted.add(info);
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.writeAndFlush(msg);
                }
            });
        }).get(5, TimeUnit.SECONDS);
    }

    private static Channel openEcho(TunnelDialer d, Channel carrier, String text, CompletableFuture<String> reply)
            throws Exception {
        StringBuilder got = new StringBuilder();
        ByteBuf payload = Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII);
        ChannelInboundHandlerAdapter collector = new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                got.append(b.toString(StandardCharsets.US_ASCII));
                b.release();
                if (got.length() >= text.length()) {
                    reply.complete(got.toString());
                }
            }
        };
        var f = carrier == null ? d.open(payload, (ch, info) -> ch.pipeline().addLast(collector))
                : d.openOver(carrier, payload, (ch, info) -> ch.pipeline().addLast(collector));
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void serverIdleTimeoutClosesAConnectionWithoutStreamsOnly() throws Exception {
        InetSocketAddress addr = startEcho(HttpOptions.builder().idleTimeout(Duration.ofMillis(300)).build(), false);
        dialer = new HttpTransportProvider().newDialer(runtime, DialerConfig.of(addr),
                HttpOptions.builder().h2cPriorKnowledge(true).build());
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel tunnel = openEcho(dialer, null, "a", reply);
        assertEquals("a", reply.get(5, TimeUnit.SECONDS));
        Channel conn = tunnel.parent();
        Thread.sleep(900);
        assertTrue(conn.isActive(), "a connection with an open stream is not idle");
        tunnel.close();
        assertTrue(conn.closeFuture().await(3, TimeUnit.SECONDS), "GOAWAY and close once idle");
    }

    @ParameterizedTest(name = "tls={0} h2c={1}")
    @CsvSource({"false, false", "false, true", "true, false"})
    void serverSeesTheClientsHostPathMethodAndHeaders(boolean tls, boolean h2c) throws Exception {
        InetSocketAddress addr = startEcho(HttpOptions.builder().hosts("b.example").path("/p").method("POST")
                .build(), tls);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                HttpOptions.builder().hosts("b.example").path("/p/q r").method("POST").h2cPriorKnowledge(h2c)
                        .header("X-Client", "a", "b").build());
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel t = openEcho(dialer, null, "x", reply);
        reply.get(5, TimeUnit.SECONDS);
        t.close();
        TunnelInfo info = accepted.get(0);
        assertEquals("b.example", info.authority());
        assertEquals("/p/q%20r", info.path());
        if (tls || h2c) {
            assertEquals(List.of("a", "b"), info.headers().getAll("x-client"));
            assertEquals(null, info.headers().get("user-agent"));
        } else {
            assertEquals("a, b", info.headers().get("X-Client"), "HTTP/1.1 joins the values as Go does");
            assertEquals("b.example", info.headers().get("Host"));
        }
    }

    @Test
    void heldBytesThenAutoReadOnKeepsTheConnectionReading() throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), HttpOptions.defaults());
        InetSocketAddress addr = listener.bind((ch, info) -> {
            ch.config().setAutoRead(false);
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.writeAndFlush(msg);
                }
            });
            // Later, only autoRead on (no explicit read()): the held bytes and everything after must flow.
            ch.eventLoop().schedule(() -> ch.config().setAutoRead(true), 300, TimeUnit.MILLISECONDS);
        }).get(5, TimeUnit.SECONDS);
        dialer = new HttpTransportProvider().newDialer(runtime, DialerConfig.of(addr), HttpOptions.defaults());
        StringBuilder got = new StringBuilder();
        Channel t = dialer.open(Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII), (ch, info) ->
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        synchronized (got) {
                            got.append(b.toString(StandardCharsets.US_ASCII));
                        }
                        b.release();
                    }
                })).get(10, TimeUnit.SECONDS);
        Thread.sleep(700);
        t.writeAndFlush(Unpooled.copiedBuffer("second", StandardCharsets.US_ASCII));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            synchronized (got) {
                if (got.length() >= "firstsecond".length()) {
                    break;
                }
            }
            Thread.sleep(10);
        }
        synchronized (got) {
            assertEquals("firstsecond", got.toString());
        }
        t.close();
    }

    @Test
    void trustedXForwardedForBecomesTheClientAddress() throws Exception {
        InetSocketAddress addr = startEcho(HttpOptions.builder().trustXForwardedFor(true).build(), false);
        dialer = new HttpTransportProvider().newDialer(runtime, DialerConfig.of(addr),
                HttpOptions.builder().header("X-Forwarded-For", "bogus, 203.0.113.7, 198.51.100.1").build());
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel t = openEcho(dialer, null, "x", reply);
        reply.get(5, TimeUnit.SECONDS);
        t.close();
        assertEquals(new InetSocketAddress("203.0.113.7", 0), accepted.get(0).remoteAddress());
    }

    @Test
    void untrustedXForwardedForIsIgnored() throws Exception {
        InetSocketAddress addr = startEcho(HttpOptions.defaults(), false);
        dialer = new HttpTransportProvider().newDialer(runtime, DialerConfig.of(addr),
                HttpOptions.builder().header("X-Forwarded-For", "203.0.113.7").build());
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel t = openEcho(dialer, null, "x", reply);
        reply.get(5, TimeUnit.SECONDS);
        t.close();
        InetSocketAddress remote = (InetSocketAddress) accepted.get(0).remoteAddress();
        assertEquals("127.0.0.1", remote.getAddress().getHostAddress());
    }

    @ParameterizedTest(name = "tls={0} h2c={1}")
    @CsvSource({"false, false", "false, true", "true, false"})
    void halfCloseRightAfterLargeWritesLosesNothing(boolean tls, boolean h2c) throws Exception {
        int total = 8 * 1024 * 1024;
        CompletableFuture<Long> receivedAtEnd = new CompletableFuture<>();
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                HttpOptions.defaults());
        InetSocketAddress addr = listener.bind((ch, info) -> ch.pipeline().addLast(
                new ChannelInboundHandlerAdapter() {
                    long count;

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        count += ((ByteBuf) msg).readableBytes();
                        ((ByteBuf) msg).release();
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                            receivedAtEnd.complete(count);
                        }
                    }
                })).get(5, TimeUnit.SECONDS);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                HttpOptions.builder().h2cPriorKnowledge(h2c).build());
        Channel t = dialer.open(TunnelInitializer.NONE).get(10, TimeUnit.SECONDS);
        byte[] chunk = new byte[64 * 1024];
        t.eventLoop().execute(() -> {
            // Everything queued at once, far beyond the socket buffer and the stream window, then the half-close.
            for (int i = 0; i < total / chunk.length; i++) {
                t.write(Unpooled.wrappedBuffer(chunk));
            }
            dev.tunnelwire.Tunnels.shutdownOutput(t);
        });
        assertEquals(total, receivedAtEnd.get(30, TimeUnit.SECONDS), "bytes before the end of input");
        t.close();
    }

    @ParameterizedTest(name = "tls={0} h2c={1}")
    @CsvSource({"false, false", "false, true", "true, false"})
    void proxyProtocolHeaderIsRequiredAndSent(boolean tls, boolean h2c) throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null)
                        .withAcceptProxyProtocol(true), HttpOptions.defaults());
        InetSocketAddress addr = listener.bind((ch, info) -> {
            accepted.add(info);
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.writeAndFlush(msg);
                }
            });
        }).get(5, TimeUnit.SECONDS);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null)
                        .withProxyProtocol(dev.tunnelwire.ProxyProtocolVersion.V2),
                HttpOptions.builder().h2cPriorKnowledge(h2c).build());
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel t = openEcho(dialer, null, "proxied", reply);
        assertEquals("proxied", reply.get(5, TimeUnit.SECONDS));
        t.close();
        InetSocketAddress remote = (InetSocketAddress) accepted.get(0).remoteAddress();
        assertEquals("127.0.0.1", remote.getAddress().getHostAddress());
        assertEquals(((InetSocketAddress) (t.parent() != null ? t.parent() : t).localAddress()).getPort(),
                remote.getPort(), "the client address is the one in the PROXY header");
    }

    @ParameterizedTest(name = "tls={0} h2c={1}")
    @CsvSource({"false, false", "false, true", "true, false"})
    void opensOverACarrierChannel(boolean tls, boolean h2c) throws Exception {
        InetSocketAddress addr = startEcho(HttpOptions.defaults(), tls);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                HttpOptions.builder().h2cPriorKnowledge(h2c).build());
        Channel carrier = new Bootstrap().group(runtime.group()).channel(runtime.socketChannelType())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                    }
                }).connect(addr).sync().channel();
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel tunnel = openEcho(dialer, carrier, "over-carrier", reply);
        assertEquals("over-carrier", reply.get(5, TimeUnit.SECONDS));
        if (tls || h2c) {
            assertInstanceOf(Http2StreamChannel.class, tunnel);
        } else {
            assertEquals(carrier, tunnel);
        }
        tunnel.close();
        assertTrue(carrier.closeFuture().await(3, TimeUnit.SECONDS), "closing the tunnel closes the carrier");
        assertFalse(carrier.isActive());
    }
}
