package dev.tunnelwire.transport.http;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/2 client's pooling: many tunnels share one connection, and a connection that goes silent (a frozen
 * middlebox: no FIN, no RST) is detected by the PING health check, which fails its tunnels; the next dial makes a new
 * connection.
 */
class HttpPooledConnectionTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private TunnelListener listener;
    private TunnelDialer dialer;
    private FreezingProxy proxy;

    @AfterEach
    void tearDown() throws Exception {
        if (dialer != null) {
            dialer.close();
        }
        if (listener != null) {
            listener.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        runtime.close();
    }

    private InetSocketAddress startEchoServer(boolean tls) throws Exception {
        listener = new HttpTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                HttpOptions.defaults());
        return listener.bind((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
            }
        })).get(5, TimeUnit.SECONDS);
    }

    /** Opens a tunnel whose received text completes {@code reply}. */
    private Channel open(CompletableFuture<String> reply, String firstPayload) throws Exception {
        StringBuilder got = new StringBuilder();
        return dialer.open(Unpooled.copiedBuffer(firstPayload, StandardCharsets.US_ASCII), (ch, info) ->
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        got.append(b.toString(StandardCharsets.US_ASCII));
                        b.release();
                        if (got.length() >= firstPayload.length()) {
                            reply.complete(got.toString());
                        }
                    }
                })).get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {true, false})
    void hundredConcurrentTunnelsShareOnePooledConnection(boolean tls) throws Exception {
        InetSocketAddress server = startEchoServer(tls);
        dialer = new HttpTransportProvider().newDialer(runtime,
                DialerConfig.of(server, tls ? ApiHarness.clientTls() : null),
                HttpOptions.builder().h2cPriorKnowledge(!tls).build());
        List<io.netty.util.concurrent.Future<Channel>> opens = new ArrayList<>();
        List<CompletableFuture<String>> replies = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            CompletableFuture<String> reply = new CompletableFuture<>();
            replies.add(reply);
            String msg = "tunnel-" + i;
            StringBuilder got = new StringBuilder();
            opens.add(dialer.open(Unpooled.copiedBuffer(msg, StandardCharsets.US_ASCII), (ch, info) ->
                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object m) {
                            ByteBuf b = (ByteBuf) m;
                            got.append(b.toString(StandardCharsets.US_ASCII));
                            b.release();
                            if (got.length() >= msg.length()) {
                                reply.complete(got.toString());
                            }
                        }
                    })));
        }
        Set<Channel> connections = new HashSet<>();
        List<Channel> tunnels = new ArrayList<>();
        for (var f : opens) {
            Channel t = f.get(10, TimeUnit.SECONDS);
            tunnels.add(t);
            connections.add(t.parent());
        }
        for (int i = 0; i < 100; i++) {
            assertEquals("tunnel-" + i, replies.get(i).get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, connections.size(), "all 100 tunnels are streams of one pooled connection");
        for (Channel t : tunnels) {
            t.close();
        }
    }

    @Test
    void silentConnectionFailsItsTunnelsWithinThePingTimeoutAndIsReplaced() throws Exception {
        InetSocketAddress server = startEchoServer(false);
        proxy = new FreezingProxy(server);
        Duration idle = Duration.ofMillis(200);
        Duration ping = Duration.ofMillis(400);
        dialer = new HttpTransportProvider().newDialer(runtime, DialerConfig.of(proxy.address()),
                HttpOptions.builder().h2cPriorKnowledge(true).idleTimeout(idle).pingTimeout(ping).build());
        List<Channel> tunnels = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CompletableFuture<String> reply = new CompletableFuture<>();
            tunnels.add(open(reply, "hello-" + i));
            assertEquals("hello-" + i, reply.get(10, TimeUnit.SECONDS));
        }
        Channel first = tunnels.get(0).parent();
        assertTrue(tunnels.stream().allMatch(t -> t.parent() == first));

        proxy.freezeExisting();
        long frozenAt = System.nanoTime();
        for (Channel t : tunnels) {
            assertTrue(t.closeFuture().await(5, TimeUnit.SECONDS), "tunnel failed after the missed PING");
        }
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
        assertTrue(tookMillis <= idle.plus(ping).toMillis() + 1000,
                "tunnels must fail within idle + ping timeout (took " + tookMillis + " ms)");
        assertTrue(!first.isActive());

        CompletableFuture<String> reply = new CompletableFuture<>();
        Channel fresh = open(reply, "again");
        assertEquals("again", reply.get(10, TimeUnit.SECONDS));
        assertNotSame(first, fresh.parent(), "the next dial opened a new connection");
        assertInstanceOf(io.netty.handler.codec.http2.Http2StreamChannel.class, fresh);
        fresh.close();
    }

    /**
     * A TCP relay whose existing connections can be frozen: they stop forwarding but stay open, like a dead path
     * through a NAT or firewall.
     */
    static final class FreezingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final InetSocketAddress upstream;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final Set<Socket> frozen = java.util.concurrent.ConcurrentHashMap.newKeySet();

        FreezingProxy(InetSocketAddress upstream) throws IOException {
            this.upstream = upstream;
            this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::acceptLoop, "freezing-proxy");
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", server.getLocalPort());
        }

        void freezeExisting() {
            frozen.addAll(sockets);
        }

        private void acceptLoop() {
            try {
                while (true) {
                    Socket a = server.accept();
                    Socket b = new Socket(upstream.getAddress(), upstream.getPort());
                    sockets.add(a);
                    sockets.add(b);
                    pump(a, b);
                    pump(b, a);
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16384];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        while (frozen.contains(from)) {
                            Thread.sleep(50);
                        }
                        out.write(buf, 0, n);
                        out.flush();
                    }
                    to.shutdownOutput();
                } catch (IOException | InterruptedException e) {
                    // connection gone
                }
            }, "freezing-proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
