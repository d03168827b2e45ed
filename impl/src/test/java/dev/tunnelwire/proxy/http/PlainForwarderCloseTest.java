package dev.tunnelwire.proxy.http;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.Outbound;
import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
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
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Plain (absolute-URI) proxying must release both sockets whenever either end is done: the client closing after its
 * response (a half-closing tunnel sees that only as the end of its input), a target closing without an answer (503,
 * as gost, peer-gost.md 2.6) or in the middle of one. Run for the {@code http} handler and for {@code auto}, which
 * hands HTTP clients to the same forwarder. Checked by counting the proxy's open tunnels and upstream connections and
 * the process's open file descriptors.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PlainForwarderCloseTest {

    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";

    private TunnelRuntime rt;
    private EventLoopGroup targetGroup;
    private Channel target;
    private Service proxy;
    /** What the target does once it has a request head: answer {@link #OK}, close silently, or truncate. */
    private volatile String targetMode = "ok";
    private final AtomicInteger openTunnels = new AtomicInteger();
    private final AtomicInteger acceptedTunnels = new AtomicInteger();
    private final AtomicInteger openUpstreams = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        rt = TunnelRuntime.create(2);
        targetGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        target = new ServerBootstrap().group(targetGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Target());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.close();
        }
        target.close().syncUninterruptibly();
        targetGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        rt.close();
    }

    /** Answers (or not) once the request head is complete. */
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
            switch (targetMode) {
                case "ok" -> ctx.writeAndFlush(ascii(OK)).addListener(ChannelFutureListener.CLOSE);
                case "truncate" -> ctx.writeAndFlush(ascii("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhi"))
                        .addListener(ChannelFutureListener.CLOSE);
                case "garbage" -> ctx.writeAndFlush(ascii("SSH-2.0-OpenSSH_9.6\r\n\r\n")); // and stays open
                default -> ctx.close();
            }
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
    }

    private void startProxy(String handler) throws Exception {
        Handler inner = handler.equals("http") ? new HttpHandler(HttpHandlerOptions.defaults())
                : new AutoHandler(Socks5HandlerOptions.defaults(), HttpHandlerOptions.defaults());
        Handler counting = new Handler() {
            @Override
            public String protocol() {
                return inner.protocol();
            }

            @Override
            public void init(Channel tunnel, HandlerContext context) {
                openTunnels.incrementAndGet();
                acceptedTunnels.incrementAndGet();
                tunnel.closeFuture().addListener(x -> openTunnels.decrementAndGet());
                inner.init(tunnel, context);
            }
        };
        Chain direct = Chain.direct(rt);
        Outbound countingOutbound = new Outbound() {
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
        proxy = Service.of(handler, new TcpTransportProvider().newListener(rt,
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), TcpOptions.defaults()),
                counting, countingOutbound, ServiceOptions.defaults());
        proxy.bind().sync();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", proxy.localAddress().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private String request() {
        int port = ((InetSocketAddress) target.localAddress()).getPort();
        return "GET http://127.0.0.1:" + port + "/x HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n";
    }

    /** Reads one response with a Content-Length body (the connection stays open). */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int contentLength = -1;
        int headEnd = -1;
        while (headEnd < 0 || got.size() < headEnd + contentLength) {
            int c = in.read();
            if (c < 0) {
                fail("connection closed after " + got.toString(StandardCharsets.ISO_8859_1));
            }
            got.write(c);
            String s = got.toString(StandardCharsets.ISO_8859_1);
            if (headEnd < 0 && s.endsWith("\r\n\r\n")) {
                headEnd = s.length();
                for (String line : s.split("\r\n")) {
                    if (line.toLowerCase().startsWith("content-length:")) {
                        contentLength = Integer.parseInt(line.substring(15).trim());
                    }
                }
                assertTrue(contentLength >= 0, s);
            }
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    /** Everything up to the end of the stream. */
    private static String readToEnd(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    private static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what);
            }
            Thread.sleep(20);
        }
    }

    private void awaitAllClosed(int baselineFds) throws InterruptedException {
        await("proxy tunnels still open: " + openTunnels.get(), () -> openTunnels.get() == 0);
        await("upstream connections still open: " + openUpstreams.get(), () -> openUpstreams.get() == 0);
        if (baselineFds >= 0) {
            await("open file descriptors " + openFds() + ", baseline " + baselineFds,
                    () -> openFds() <= baselineFds + 16);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void thousandPlainGetsClosedByTheClientLeaveNothingOpen(String handler) throws Exception {
        startProxy(handler);
        for (int i = 0; i < 5; i++) { // warm up: classes, event loop threads, pooled buffers
            try (Socket s = connect()) {
                s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
                readResponse(s.getInputStream());
            }
        }
        Thread.sleep(200);
        int baseline = openFds();
        for (int i = 0; i < 1000; i++) {
            try (Socket s = connect()) {
                s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
                String r = readResponse(s.getInputStream());
                assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n") && r.endsWith("\r\n\r\nhi"), r);
            }
        }
        awaitAllClosed(baseline);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void clientThatClosesBeforeAnyRequestIsClosedAtOnceNotAtTheHandshakeTimeout(String handler) throws Exception {
        startProxy(handler);
        for (int i = 0; i < 20; i++) {
            connect().close();
        }
        long t0 = System.nanoTime();
        await("tunnels accepted: " + acceptedTunnels.get(), () -> acceptedTunnels.get() == 20);
        awaitAllClosed(-1);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < ServiceOptions.DEFAULT_HANDSHAKE_TIMEOUT_SECONDS * 1000 / 2, "closed after " + ms + " ms");
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void clientThatHalfClosesAfterItsRequestGetsTheResponseAndThenTheEnd(String handler) throws Exception {
        startProxy(handler);
        try (Socket s = connect()) {
            s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
            s.shutdownOutput();
            String r = readToEnd(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n") && r.endsWith("\r\n\r\nhi"), r);
        }
        awaitAllClosed(-1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void targetThatClosesWithoutAnsweringGives503AndBothSocketsClose(String handler) throws Exception {
        startProxy(handler);
        targetMode = "silent";
        int baseline = openFds();
        for (int i = 0; i < 20; i++) {
            try (Socket s = connect()) {
                s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
                assertEquals("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: "
                        + HttpHandlerOptions.defaults().proxyAgent() + "\r\n\r\n", readToEnd(s.getInputStream()));
            }
        }
        awaitAllClosed(baseline);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void targetThatAnswersSomethingOtherThanHttpGives503AndBothSocketsClose(String handler) throws Exception {
        startProxy(handler);
        targetMode = "garbage";
        try (Socket s = connect()) {
            s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
            assertEquals("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: "
                    + HttpHandlerOptions.defaults().proxyAgent() + "\r\n\r\n", readToEnd(s.getInputStream()));
        }
        awaitAllClosed(-1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "auto"})
    void targetThatClosesInTheMiddleOfTheResponseClosesTheClient(String handler) throws Exception {
        startProxy(handler);
        targetMode = "truncate";
        try (Socket s = connect()) {
            s.getOutputStream().write(request().getBytes(StandardCharsets.ISO_8859_1));
            String r = readToEnd(s.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n") && r.endsWith("\r\n\r\nhi"), r);
        }
        awaitAllClosed(-1);
    }
}
