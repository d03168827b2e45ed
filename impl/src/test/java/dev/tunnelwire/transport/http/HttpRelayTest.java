package dev.tunnelwire.transport.http;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.internal.Relay;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TransportContractTest;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicLong;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's tunnels joined by the core {@link Relay} to a TCP echo server: 4 MiB through and back, then the
 * client's half-close travels through the relay to the echo server and the echo server's back to the client.
 */
class HttpRelayTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private LoopbackServers echo;
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
        if (echo != null) {
            echo.close();
        }
        runtime.close();
    }

    @ParameterizedTest(name = "tls={0} h2c={1}")
    @CsvSource({"false, false", "false, true", "true, false"})
    void relayedThroughToATcpEchoWithHalfClose(boolean tls, boolean h2c) throws Exception {
        echo = LoopbackServers.echo();
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                HttpOptions.defaults());
        InetSocketAddress addr = listener.bind((tunnel, info) -> {
            tunnel.config().setAutoRead(false);
            new Bootstrap().group(tunnel.eventLoop()).channel(runtime.socketChannelType())
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new dev.tunnelwire.internal.HalfCloseHandler());
                        }
                    })
                    .connect(echo.address()).addListener(f -> {
                        Channel tcp = ((io.netty.channel.ChannelFuture) f).channel();
                        if (f.isSuccess()) {
                            Relay.join(tunnel, tcp);
                        } else {
                            tunnel.close();
                        }
                    });
        }).get(5, TimeUnit.SECONDS);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                HttpOptions.builder().h2cPriorKnowledge(h2c).build());
        byte[] data = Digests.randomBytes(4 * 1024 * 1024, 3);
        MessageDigest md = Digests.sha256();
        AtomicLong count = new AtomicLong();
        CompletableFuture<Long> inputEnded = new CompletableFuture<>();
        Channel t = dialer.open((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                Digests.update(md, b);
                count.addAndGet(b.readableBytes());
                b.release();
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownEvent) {
                    inputEnded.complete(count.get());
                }
            }
        })).get(10, TimeUnit.SECONDS);
        // A first exchange, so that the server's relay is in place before the bulk data and the FIN. (Until then
        // the tunnel has autoRead off, but Netty's epoll transport reads a half-closed socket to its end whatever
        // autoRead says, so bytes and FIN that arrive before the relay's handlers exist would reach no one.)
        t.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {7}));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count.get() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(1, count.get(), "first byte echoed");
        md.reset();
        count.set(0);
        new TransportContractTest.Sender(t, data).start().get(30, TimeUnit.SECONDS);
        Tunnels.shutdownOutput(t);
        // The echo server half-closes after echoing everything; that FIN comes back as our end of input.
        assertEquals(data.length, inputEnded.get(30, TimeUnit.SECONDS));
        assertArrayEquals(Digests.sha256(data), md.digest());
        assertTrue(t.closeFuture().await(5, TimeUnit.SECONDS), "both directions ended: the tunnel closes");
    }
}
