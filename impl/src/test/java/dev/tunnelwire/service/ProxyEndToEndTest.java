package dev.tunnelwire.service;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.ProxyException;
import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.forward.ForwardConnector;
import dev.tunnelwire.proxy.forward.ForwardHandler;
import dev.tunnelwire.proxy.http.HttpConnector;
import dev.tunnelwire.proxy.http.HttpConnectorOptions;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.relay.RelayConnector;
import dev.tunnelwire.proxy.relay.RelayConnectorOptions;
import dev.tunnelwire.proxy.relay.RelayHandler;
import dev.tunnelwire.proxy.relay.RelayHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Connector;
import dev.tunnelwire.proxy.socks5.Socks5ConnectorOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessConnector;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;
import dev.tunnelwire.testkit.LoopbackServers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.tunnelwire.service.ProxyTestKit.TCP_PLAIN;
import static dev.tunnelwire.service.ProxyTestKit.TCP_TLS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every protocol end to end over every transport: a plain TCP client service (forward handler to the echo server,
 * through a one-hop chain of transport + connector) talks to a server service (transport listener + handler), 16 MiB
 * each way checked by SHA-256. Bad credentials give each protocol's documented error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProxyEndToEndTest {

    static final String VLESS_ID = "b831381d-6324-4d53-ad4f-8cda48b30811";

    /** A protocol: its server handler (with auth), a client connector with good credentials and one with bad. */
    record Protocol(String name, Function<Destination, Handler> handler, Connector good, Connector bad) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final Authenticator USERS = Authenticator.user("alice", "s3cret");

    static final List<Protocol> PROTOCOLS = List.of(
            new Protocol("vless", echo -> new VlessHandler(VlessHandlerOptions.of(VLESS_ID)),
                    new VlessConnector(VLESS_ID), new VlessConnector("not-the-user")),
            new Protocol("socks5", echo -> new Socks5Handler(new Socks5HandlerOptions(USERS)),
                    new Socks5Connector(new Socks5ConnectorOptions("alice", "s3cret")),
                    new Socks5Connector(new Socks5ConnectorOptions("alice", "wrong"))),
            new Protocol("http", echo -> new HttpHandler(HttpHandlerOptions.builder().authenticator(USERS).build()),
                    new HttpConnector(new HttpConnectorOptions("alice", "s3cret")),
                    new HttpConnector(new HttpConnectorOptions("alice", "wrong"))),
            new Protocol("relay", echo -> new RelayHandler(RelayHandlerOptions.builder().authenticator(USERS).build()),
                    new RelayConnector(RelayConnectorOptions.builder().user("alice").password("s3cret").build()),
                    new RelayConnector(RelayConnectorOptions.builder().user("alice").password("wrong")
                            .nodelay(true).build())),
            new Protocol("relay-nodelay", echo -> new RelayHandler(RelayHandlerOptions.builder().nodelay(true)
                    .authenticator(USERS).build()),
                    new RelayConnector(RelayConnectorOptions.builder().user("alice").password("s3cret")
                            .nodelay(true).build()), null),
            new Protocol("auto-socks5", echo -> new AutoHandler(new Socks5HandlerOptions(USERS),
                    HttpHandlerOptions.builder().authenticator(USERS).build()),
                    new Socks5Connector(new Socks5ConnectorOptions("alice", "s3cret")), null),
            new Protocol("auto-http", echo -> new AutoHandler(new Socks5HandlerOptions(USERS),
                    HttpHandlerOptions.builder().authenticator(USERS).build()),
                    new HttpConnector(new HttpConnectorOptions("alice", "s3cret")), null),
            new Protocol("forward", ForwardHandler::new, ForwardConnector.INSTANCE, null));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Protocol p : PROTOCOLS) {
            for (ProxyTestKit.Transport t : ProxyTestKit.TRANSPORTS) {
                out.add(Arguments.of(p, t));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> badCredentials() {
        List<Arguments> out = new ArrayList<>();
        for (Protocol p : PROTOCOLS) {
            if (p.bad() != null) {
                out.add(Arguments.of(p));
            }
        }
        return out.stream();
    }

    private TunnelRuntime rt;
    private LoopbackServers echo;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        rt = TunnelRuntime.create(2);
        echo = LoopbackServers.echo();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        echo.close();
        rt.close();
    }

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    private Service server(Protocol p, ProxyTestKit.Transport t) throws Exception {
        return track(ProxyTestKit.bind("server-" + p.name(), t.listener(rt),
                p.handler().apply(ProxyTestKit.dest(echo.address())), Chain.direct(rt)));
    }

    private Chain chainTo(Service server, ProxyTestKit.Transport t, Connector c) {
        return track(Chain.of(rt, List.of(new Hop("hop", ProxyTestKit.dest(server.localAddress()),
                t.dialer(rt, server.localAddress()), c))));
    }

    @ParameterizedTest(name = "{0} over {1}")
    @MethodSource("cases")
    void echoes16MiBEachWay(Protocol p, ProxyTestKit.Transport t) throws Exception {
        Service server = server(p, t);
        Chain chain = chainTo(server, t, p.good());
        Service client = track(ProxyTestKit.bind("client", TCP_PLAIN.listener(rt),
                new ForwardHandler(ProxyTestKit.dest(echo.address())), chain));
        try (Socket s = new Socket("127.0.0.1", client.localAddress().getPort())) {
            ProxyTestKit.echo16MiB(s);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCredentials")
    void badCredentialsGiveTheDocumentedError(Protocol p) throws Exception {
        Service server = server(p, TCP_PLAIN);
        Chain chain = chainTo(server, TCP_PLAIN, p.bad());
        ByteBuf hello = Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII);
        Future<Channel> f = chain.connect(ProxyTestKit.dest(echo.address()), hello).await();
        switch (p.name()) {
            case "socks5" -> assertCode(f, 1);      // RFC 1929 status 01
            case "http" -> assertCode(f, 407);
            case "relay" -> assertCode(f, 2);       // Unauthorized
            case "vless" -> {
                // VLESS has no error reply: the connection is closed and no byte comes back
                assertTrue(f.isSuccess());
                Channel ch = f.getNow();
                CompletableFuture<Integer> got = new CompletableFuture<>();
                ch.eventLoop().execute(() -> {
                    var counter = new io.netty.channel.ChannelInboundHandlerAdapter() {
                        int n;

                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            n += ((ByteBuf) msg).readableBytes();
                            ReferenceCountUtil.release(msg);
                        }

                        @Override
                        public void userEventTriggered(io.netty.channel.ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                                got.complete(n); // the server's FIN, seen as a half-close
                            }
                        }

                        @Override
                        public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable t) {
                            ctx.close();
                        }

                        @Override
                        public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
                            got.complete(n);
                        }
                    };
                    ch.pipeline().addLast(counter);
                    ch.pipeline().remove(dev.tunnelwire.proxy.Outbound.HOLD);
                    ch.config().setAutoRead(true);
                    if (ch.isActive()) {
                        ch.read();
                    } else {
                        got.complete(counter.n); // closed before the handler was added
                    }
                });
                assertEquals(0, got.get(5, TimeUnit.SECONDS));
            }
            default -> throw new AssertionError(p.name());
        }
    }

    private static void assertCode(Future<Channel> f, int code) {
        assertTrue(!f.isSuccess(), "connect must fail");
        ProxyException e = assertInstanceOf(ProxyException.class, f.cause());
        assertEquals(code, e.code(), e.getMessage());
    }

    @Test
    void relayWithoutNodelayReportsBadCredentialsByClosing() throws Exception {
        Protocol p = PROTOCOLS.get(3);
        Service server = server(p, TCP_PLAIN);
        Chain chain = chainTo(server, TCP_PLAIN, new RelayConnector(RelayConnectorOptions.builder().user("alice")
                .password("wrong").build()));
        Service client = track(ProxyTestKit.bind("client", TCP_PLAIN.listener(rt),
                new ForwardHandler(ProxyTestKit.dest(echo.address())), chain));
        try (Socket s = new Socket("127.0.0.1", client.localAddress().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, s.getInputStream().read(), "closed without data");
        }
    }

    @Test
    void twoHopChainSocks5OverTcpThenRelayOverTls() throws Exception {
        Service a = track(ProxyTestKit.bind("hop-a", TCP_PLAIN.listener(rt),
                new Socks5Handler(Socks5HandlerOptions.defaults()), Chain.direct(rt)));
        Service b = track(ProxyTestKit.bind("hop-b", TCP_TLS.listener(rt),
                new RelayHandler(RelayHandlerOptions.builder().authenticator(USERS).build()), Chain.direct(rt)));
        Chain chain = track(Chain.of(rt, List.of(
                new Hop("a", ProxyTestKit.dest(a.localAddress()), TCP_PLAIN.dialer(rt, a.localAddress()),
                        new Socks5Connector(Socks5ConnectorOptions.defaults())),
                new Hop("b", ProxyTestKit.dest(b.localAddress()), TCP_TLS.dialer(rt, b.localAddress()),
                        new RelayConnector(RelayConnectorOptions.builder().user("alice").password("s3cret")
                                .build())))));
        Service client = track(ProxyTestKit.bind("client", TCP_PLAIN.listener(rt),
                new ForwardHandler(ProxyTestKit.dest(echo.address())), chain));
        try (Socket s = new Socket("127.0.0.1", client.localAddress().getPort())) {
            ProxyTestKit.echo16MiB(s);
        }
    }

    @Test
    void unreachableDestinationThroughSocks5GivesReplyCode() throws Exception {
        Service server = server(PROTOCOLS.get(1), TCP_PLAIN);
        Chain chain = chainTo(server, TCP_PLAIN, PROTOCOLS.get(1).good());
        int closedPort;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = ss.getLocalPort();
        }
        Future<Channel> f = chain.connect(Destination.of("127.0.0.1", closedPort), null).await();
        assertCode(f, 5);
    }

    @Test
    void directChainConnectFailureIsReported() {
        Chain direct = Chain.direct(rt);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> direct.connect(Destination.of("127.0.0.1", 1), null).get(5, TimeUnit.SECONDS));
        assertInstanceOf(java.net.ConnectException.class, e.getCause());
    }
}
