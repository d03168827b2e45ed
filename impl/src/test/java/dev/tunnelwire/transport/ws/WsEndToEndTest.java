package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.ProxyProtocolVersion;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our dialer against our listener over real sockets: first payloads in every early-data dialect (against the default
 * auto-detecting server and against servers configured for the dialect), large and tiny writes, TLS ALPN and the PROXY
 * protocol.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WsEndToEndTest {

    private static final WsTransportProvider PROVIDER = new WsTransportProvider();
    private final TunnelRuntime runtime = TunnelRuntime.create(2);
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

    /** Collects what a tunnel delivers. */
    static final class Sink extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final int expected;
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        Sink(int expected) {
            this.expected = expected;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            synchronized (bytes) {
                byte[] chunk = new byte[b.readableBytes()];
                b.readBytes(chunk);
                bytes.writeBytes(chunk);
                if (bytes.size() >= expected) {
                    done.complete(bytes.toByteArray());
                }
            }
            b.release();
        }
    }

    /** Echoes every buffer as one write. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    private InetSocketAddress startEcho(WsOptions server, boolean tls) throws Exception {
        listener = PROVIDER.newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null), server);
        listener.bind((ch, info) -> ch.pipeline().addLast(new Echo())).sync();
        return listener.localAddress();
    }

    private Channel open(WsOptions client, InetSocketAddress addr, boolean tls, ByteBuf first, Sink sink)
            throws Exception {
        dialer = PROVIDER.newDialer(runtime, DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), client);
        return dialer.open(first, (ch, info) -> ch.pipeline().addLast(sink)).get(10, TimeUnit.SECONDS);
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    private void roundTrip(WsOptions server, WsOptions client, int firstLen) throws Exception {
        InetSocketAddress addr = startEcho(server, false);
        byte[] first = bytes(firstLen, firstLen);
        byte[] later = "later".getBytes(StandardCharsets.US_ASCII);
        Sink sink = new Sink(firstLen + later.length);
        Channel t = open(client, addr, false, Unpooled.wrappedBuffer(first), sink);
        t.writeAndFlush(Unpooled.wrappedBuffer(later));
        byte[] got = sink.done.get(10, TimeUnit.SECONDS);
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        want.write(first);
        want.write(later);
        assertArrayEquals(want.toByteArray(), got, client + " -> " + server);
        t.close().sync();
        listener.close();
        dialer.close();
    }

    @Test
    void firstPayloadInEveryDialectAgainstTheDefaultServer() throws Exception {
        WsOptions server = WsOptions.builder().path("/ws").build();
        for (int len : new int[] {1, 26, 100, 5000}) {
            roundTrip(server, WsOptions.builder().path("/ws").build(), len);
            roundTrip(server, WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build(), len);
            roundTrip(server, WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).build(), len);
            roundTrip(server, WsOptions.builder().path("/ws?ed=100").build(), len);
        }
    }

    @Test
    void firstPayloadAgainstServersConfiguredForTheDialect() throws Exception {
        WsOptions path = WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build();
        WsOptions header = WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048)
                .earlyDataHeader("X-Early").build();
        WsOptions xray = WsOptions.builder().path("/ws?ed=2048").build();
        for (int len : new int[] {10, 3000}) {
            roundTrip(path, path, len);
            roundTrip(header, header, len);
            roundTrip(xray, xray, len);
        }
    }

    @Test
    void oneMebibyteFramesEachWayOverTls() throws Exception {
        InetSocketAddress addr = startEcho(WsOptions.defaults(), true);
        byte[] data = bytes(1024 * 1024, 5);
        Sink sink = new Sink(data.length * 2);
        Channel t = open(WsOptions.defaults(), addr, true, null, sink);
        assertEquals("http/1.1", ClientStack.negotiatedProtocol(t));
        t.writeAndFlush(Unpooled.wrappedBuffer(data));
        t.writeAndFlush(Unpooled.wrappedBuffer(data));
        byte[] got = sink.done.get(30, TimeUnit.SECONDS);
        assertArrayEquals(data, java.util.Arrays.copyOf(got, data.length));
        assertArrayEquals(data, java.util.Arrays.copyOfRange(got, data.length, got.length));
        t.close().sync();
    }

    @Test
    void tenThousandOneByteWritesEachWay() throws Exception {
        int n = 10_000;
        Sink serverSink = new Sink(n);
        CompletableFuture<Channel> serverSide = new CompletableFuture<>();
        listener = PROVIDER.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)),
                WsOptions.defaults());
        listener.bind((ch, info) -> {
            ch.pipeline().addLast(serverSink);
            serverSide.complete(ch);
        }).sync();
        Sink clientSink = new Sink(n);
        Channel t = open(WsOptions.defaults(), listener.localAddress(), false, null, clientSink);
        for (int i = 0; i < n; i++) {
            t.write(Unpooled.wrappedBuffer(new byte[] {(byte) i}));
        }
        t.flush();
        Channel s = serverSide.get(5, TimeUnit.SECONDS);
        s.eventLoop().execute(() -> {
            for (int i = 0; i < n; i++) {
                s.write(Unpooled.wrappedBuffer(new byte[] {(byte) (i * 7)}));
            }
            s.flush();
        });
        byte[] up = serverSink.done.get(20, TimeUnit.SECONDS);
        byte[] down = clientSink.done.get(20, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
            assertEquals((byte) i, up[i], "client->server byte " + i);
            assertEquals((byte) (i * 7), down[i], "server->client byte " + i);
        }
        t.close().sync();
    }

    @Test
    void proxyProtocolSetsTheRemoteAddress() throws Exception {
        CompletableFuture<TunnelInfo> info = new CompletableFuture<>();
        listener = PROVIDER.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0))
                .withAcceptProxyProtocol(true), WsOptions.defaults());
        listener.bind((ch, i) -> {
            info.complete(i);
            ch.pipeline().addLast(new Echo());
        }).sync();
        dialer = PROVIDER.newDialer(runtime, DialerConfig.of(listener.localAddress())
                .withProxyProtocol(ProxyProtocolVersion.V1), WsOptions.defaults());
        Sink sink = new Sink(2);
        Channel t = dialer.open(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII),
                (ch, i) -> ch.pipeline().addLast(sink)).get(10, TimeUnit.SECONDS);
        assertEquals("hi", new String(sink.done.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        assertEquals(t.localAddress(), info.get().remoteAddress());
        t.close().sync();
    }

    @Test
    void rejectedDialFailsWithTheStatus() throws Exception {
        InetSocketAddress addr = startEcho(WsOptions.builder().path("/ws").build(), false);
        dialer = PROVIDER.newDialer(runtime, DialerConfig.of(addr), WsOptions.builder().path("/nope/").build());
        var f = dialer.open(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII), (ch, i) -> { });
        f.await(10, TimeUnit.SECONDS);
        assertEquals(404, ((dev.tunnelwire.HandshakeException) f.cause()).status());
    }
}
