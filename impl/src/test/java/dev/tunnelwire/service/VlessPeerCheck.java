package dev.tunnelwire.service;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.forward.ForwardHandler;
import dev.tunnelwire.proxy.vless.VlessConnector;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * By-hand VLESS (over raw TCP) checks against real Xray 26.7.28 and sing-box 1.13.2 binaries on 127.0.0.1, both
 * directions, 16 MiB echo each. Opt in with {@code -Dtunnelwire.xray=<binary>} and/or
 * {@code -Dtunnelwire.singbox=<binary>}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VlessPeerCheck {

    static final String ID = "27848739-7e62-4138-9fd3-098a63964b6b";
    private static final TcpTransportProvider TCP = new TcpTransportProvider();

    private TunnelRuntime rt;
    private LoopbackServers echo;
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
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
        echo.close();
        rt.close();
    }

    private static String binary(String peer) {
        String b = System.getProperty("tunnelwire." + peer);
        org.junit.jupiter.api.Assertions.assertTrue(b != null && new File(b).canExecute(), "set -Dtunnelwire." + peer + "=<binary>");
        return b;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void run(String peer, String config) throws Exception {
        Path cfg = Files.createTempFile(peer, ".json");
        Files.writeString(cfg, config);
        Path log = Files.createTempFile(peer, ".log");
        Process p = new ProcessBuilder(binary(peer), "run", "-c", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        processes.add(p);
        Thread.sleep(1000);
        if (!p.isAlive()) {
            throw new IllegalStateException(peer + " exited: " + Files.readString(log));
        }
    }

    private String server(String peer, int port) {
        return peer.equals("xray")
                ? "{\"log\":{\"loglevel\":\"warning\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":" + port
                + ",\"protocol\":\"vless\",\"settings\":{\"clients\":[{\"id\":\"" + ID + "\"}],\"decryption\":\"none\"},"
                + "\"streamSettings\":{\"network\":\"raw\"}}],"
                + "\"outbounds\":[{\"protocol\":\"freedom\",\"settings\":{\"finalRules\":[{\"action\":\"allow\"}]}}]}"
                : "{\"log\":{\"level\":\"warn\"},\"inbounds\":[{\"type\":\"vless\",\"listen\":\"127.0.0.1\","
                + "\"listen_port\":" + port + ",\"users\":[{\"uuid\":\"" + ID + "\"}]}],"
                + "\"outbounds\":[{\"type\":\"direct\"}]}";
    }

    private String client(String peer, int socksPort, int serverPort) {
        return peer.equals("xray")
                ? "{\"log\":{\"loglevel\":\"warning\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":" + socksPort
                + ",\"protocol\":\"socks\",\"settings\":{\"auth\":\"noauth\",\"udp\":false}}],"
                + "\"outbounds\":[{\"protocol\":\"vless\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":"
                + serverPort + ",\"id\":\"" + ID + "\",\"encryption\":\"none\"},"
                + "\"streamSettings\":{\"network\":\"raw\"}}]}"
                : "{\"log\":{\"level\":\"warn\"},\"inbounds\":[{\"type\":\"mixed\",\"listen\":\"127.0.0.1\","
                + "\"listen_port\":" + socksPort + "}],\"outbounds\":[{\"type\":\"vless\",\"server\":\"127.0.0.1\","
                + "\"server_port\":" + serverPort + ",\"uuid\":\"" + ID + "\"}]}";
    }

    @ParameterizedTest
    @ValueSource(strings = {"xray", "singbox"})
    void ourConnectorAgainstPeerServer(String peer) throws Exception {
        binary(peer);
        int port = freePort();
        run(peer, server(peer, port));
        InetSocketAddress a = new InetSocketAddress("127.0.0.1", port);
        Chain chain = Chain.of(rt, List.of(new Hop(peer, Destination.of(a),
                TCP.newDialer(rt, DialerConfig.of(a), TcpOptions.defaults()), new VlessConnector(ID))));
        closeables.add(chain);
        Service client = ProxyTestKit.bind("client", ProxyTestKit.TCP_PLAIN.listener(rt),
                new ForwardHandler(Destination.of(echo.address())), chain);
        closeables.add(client);
        try (Socket s = new Socket("127.0.0.1", client.localAddress().getPort())) {
            ProxyTestKit.echo16MiB(s);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"xray", "singbox"})
    void peerClientAgainstOurHandler(String peer) throws Exception {
        binary(peer);
        Service ours = ProxyTestKit.bind("vless", ProxyTestKit.TCP_PLAIN.listener(rt),
                new VlessHandler(VlessHandlerOptions.of(ID)), Chain.direct(rt));
        closeables.add(ours);
        int socks = freePort();
        run(peer, client(peer, socks, ours.localAddress().getPort()));
        try (Socket s = new Socket(new Proxy(Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1", socks)))) {
            s.connect(echo.address());
            ProxyTestKit.echo16MiB(s);
        }
    }
}
