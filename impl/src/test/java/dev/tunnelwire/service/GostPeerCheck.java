package dev.tunnelwire.service;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.ProxyException;
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
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * By-hand wire checks against a real gost 3.2.6 binary on 127.0.0.1 (opt in: {@code -Dtunnelwire.gost=/path/to/gost}):
 * our connectors against gost's handlers and gost's connectors against our handlers, 16 MiB echo each, plus bad
 * credentials against gost's handlers. Not part of the default run; the Docker interop matrix is elsewhere.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GostPeerCheck {

    private static final TcpTransportProvider TCP = new TcpTransportProvider();

    private TunnelRuntime rt;
    private LoopbackServers echo;
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private String gost;

    @BeforeEach
    void setUp() throws Exception {
        gost = System.getProperty("tunnelwire.gost");
        org.junit.jupiter.api.Assertions.assertTrue(gost != null && new File(gost).canExecute(), "set -Dtunnelwire.gost=<binary>");
        rt = TunnelRuntime.create(2);
        echo = LoopbackServers.echo();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        if (echo != null) {
            echo.close();
        }
        if (rt != null) {
            rt.close();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void startGost(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(gost);
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile("gost", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        Thread.sleep(700);
        if (!p.isAlive()) {
            throw new IllegalStateException("gost exited: " + Files.readString(log));
        }
    }

    private Chain chain(int port, boolean tls, Connector c) {
        InetSocketAddress a = new InetSocketAddress("127.0.0.1", port);
        DialerConfig dc = DialerConfig.of(a, tls ? TlsClientOptions.builder().insecure(true).build() : null);
        Chain chain = Chain.of(rt, List.of(new Hop("gost", Destination.of(a),
                TCP.newDialer(rt, dc, TcpOptions.defaults()), c)));
        closeables.add(chain);
        return chain;
    }

    private void echoThrough(Chain chain) throws Exception {
        Service client = ProxyTestKit.bind("client", ProxyTestKit.TCP_PLAIN.listener(rt),
                new ForwardHandler(Destination.of(echo.address())), chain);
        closeables.add(client);
        try (Socket s = new Socket("127.0.0.1", client.localAddress().getPort())) {
            ProxyTestKit.echo16MiB(s);
        }
    }

    /** Our connectors against gost handlers. */
    @ParameterizedTest
    @ValueSource(strings = {"relay", "relay-nodelay", "relay+tls", "socks5", "http"})
    void ourConnectorAgainstGostHandler(String kind) throws Exception {
        int port = freePort();
        String scheme = kind.equals("relay-nodelay") ? "relay" : kind;
        // a nodelay client waits for the OK, so the server must not delay it (gost's own rule, go-gost/gost#125)
        startGost("-L", scheme + "://alice:s3cret@127.0.0.1:" + port + (kind.endsWith("nodelay") ? "?nodelay=true"
                : ""));
        Connector good = switch (kind) {
            case "relay", "relay+tls" -> new RelayConnector(RelayConnectorOptions.builder().user("alice")
                    .password("s3cret").build());
            case "relay-nodelay" -> new RelayConnector(RelayConnectorOptions.builder().user("alice")
                    .password("s3cret").nodelay(true).build());
            case "socks5" -> new Socks5Connector(new Socks5ConnectorOptions("alice", "s3cret"));
            default -> new HttpConnector(new HttpConnectorOptions("alice", "s3cret"));
        };
        echoThrough(chain(port, kind.endsWith("tls"), good));

        Connector bad = switch (kind) {
            case "relay", "relay+tls", "relay-nodelay" -> new RelayConnector(RelayConnectorOptions.builder()
                    .user("alice").password("wrong").nodelay(true).build());
            case "socks5" -> new Socks5Connector(new Socks5ConnectorOptions("alice", "wrong"));
            default -> new HttpConnector(new HttpConnectorOptions("alice", "wrong"));
        };
        Future<Channel> f = chain(port, kind.endsWith("tls"), bad).connect(Destination.of(echo.address()), null)
                .await();
        ProxyException e = assertInstanceOf(ProxyException.class, f.cause());
        int expected = kind.startsWith("relay") ? 2 : kind.equals("socks5") ? 1 : 407;
        assertEquals(expected, e.code(), e.getMessage());
    }

    /** gost connectors against our handlers. */
    @ParameterizedTest
    @ValueSource(strings = {"relay", "relay?nodelay=true", "socks5", "http"})
    void gostConnectorAgainstOurHandler(String kind) throws Exception {
        Authenticator users = Authenticator.user("alice", "s3cret");
        Handler h = switch (kind) {
            case "relay" -> new RelayHandler(RelayHandlerOptions.builder().authenticator(users).build());
            case "relay?nodelay=true" -> new RelayHandler(RelayHandlerOptions.builder().authenticator(users)
                    .nodelay(true).build());
            case "socks5" -> new Socks5Handler(new Socks5HandlerOptions(users));
            default -> new HttpHandler(HttpHandlerOptions.builder().authenticator(users).build());
        };
        Service ours = ProxyTestKit.bind("ours-" + kind, ProxyTestKit.TCP_PLAIN.listener(rt), h, Chain.direct(rt));
        closeables.add(ours);
        int entry = freePort();
        String scheme = kind.contains("?") ? kind.substring(0, kind.indexOf('?')) : kind;
        String query = kind.contains("?") ? kind.substring(kind.indexOf('?')) : "";
        startGost("-L", "tcp://127.0.0.1:" + entry + "/" + echo.address().getHostString() + ":" + echo.port(),
                "-F", scheme + "://alice:s3cret@127.0.0.1:" + ours.localAddress().getPort() + query);
        try (Socket s = new Socket("127.0.0.1", entry)) {
            ProxyTestKit.echo16MiB(s);
        }
    }
}
