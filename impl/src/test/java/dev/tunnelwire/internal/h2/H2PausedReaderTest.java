package dev.tunnelwire.internal.h2;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tunnels whose server-side reader is paused must not stop the other tunnels of the same pooled HTTP/2 connection
 * (issue #16, backpressure): each paused tunnel holds at most its stream window, and the connection window must leave
 * room for the others.
 */
class H2PausedReaderTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        runtime.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2c", "grpc"})
    void pausedTunnelsDoNotStopTheOthers(String scheme) throws Exception {
        TransportProvider p = TransportRegistry.defaultRegistry().provider(scheme);
        var options = p.parse(scheme.equals("grpc") ? Map.of("flavour", "gun", "serviceName", "svc") : Map.of());
        TunnelListener l = p.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), options);
        open.add(l::close);
        AtomicInteger n = new AtomicInteger();
        int paused = 8;
        List<Channel> tunnels = java.util.Collections.synchronizedList(new ArrayList<>());
        InetSocketAddress addr = l.bind((ch, info) -> {
            tunnels.add(ch);
            if (n.incrementAndGet() <= paused) {
                ch.config().setAutoRead(false); // never reads
            } else {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ctx.writeAndFlush(msg);
                    }
                });
            }
        }).sync().getNow();
        TunnelDialer d = p.newDialer(runtime, DialerConfig.of(addr), options);
        open.add(d::close);
        byte[] chunk = new byte[64 * 1024];
        for (int i = 0; i < paused; i++) {
            Channel t = d.open(null, (ch, info) -> { }).get(10, TimeUnit.SECONDS);
            tunnels.add(t);
            // 8 MiB each, more than a stream window: written as far as flow control lets it go
            for (int k = 0; k < 128; k++) {
                t.write(Unpooled.wrappedBuffer(chunk));
            }
            t.flush();
        }
        Thread.sleep(1000);
        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel live = d.open(null, (ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                reply.complete(b.toString(StandardCharsets.US_ASCII));
                b.release();
            }
        })).get(10, TimeUnit.SECONDS);
        tunnels.add(live);
        live.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
        try {
            assertEquals("ping", reply.get(5, TimeUnit.SECONDS), "the live tunnel beside " + paused + " paused ones");
        } finally {
            // closing releases what the paused tunnels hold (queued inbound frames, pending writes)
            for (Channel t : new ArrayList<>(tunnels)) {
                t.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
            d.close();
            l.close();
            Thread.sleep(200);
        }
    }
}
