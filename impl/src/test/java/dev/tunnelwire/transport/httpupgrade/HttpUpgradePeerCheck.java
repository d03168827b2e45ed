package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Manual wire check against the real peers (Xray v26.7.28, sing-box v1.13.2) run as plain processes on 127.0.0.1,
 * in both directions, cleartext and TLS. Not part of the normal build (the class name does not match surefire's
 * test patterns): run it with {@code mvn -pl impl test -Dtest=HttpUpgradePeerCheck} once the binaries are in
 * {@code ~/.cache/tunnelwire/peers}. The Docker matrix in interop-docker is the automated version.
 *
 * <ul>
 *   <li>our client → Xray: an Xray {@code tunnel} inbound over httpupgrade forwards raw bytes to a local echo;</li>
 *   <li>our client → sing-box: a VLESS inbound over httpupgrade; the test writes the VLESS request itself;</li>
 *   <li>Xray / sing-box client → our server: a SOCKS inbound feeding a VLESS outbound over httpupgrade; our server
 *       answers VLESS with a tiny test-only echo ({@link VlessEcho}).</li>
 * </ul>
 * Each case sends 1 MiB (plus a first payload) and checks the echo by SHA-256.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpUpgradePeerCheck {

    private static final Path PEERS = Path.of(System.getProperty("user.home"), ".cache", "tunnelwire", "peers");
    private static final Path XRAY = PEERS.resolve("xray-26.7.28/xray");
    private static final Path SINGBOX = PEERS.resolve("singbox-1.13.2/sing-box");
    private static final String ID = "27848739-7e62-4138-9fd3-098a63964b6b";
    private static final int DATA = 1024 * 1024;

    private final List<Process> processes = new ArrayList<>();
    private final HttpUpgradeTransportProvider provider = new HttpUpgradeTransportProvider();
    private TunnelRuntime runtime;
    private Path dir;
    private Path log;

    @BeforeEach
    void setUp() throws IOException {
        runtime = TunnelRuntime.create(2);
        dir = Files.createTempDirectory("hu-peer");
        TestPki.get().writePem(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
        runtime.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    // ---------------------------------------------------------------- our client -> peer server

    /**
     * Xray-style early data is checked over TLS only (20 tunnels), where Xray's server reads one record at a time.
     * Over cleartext an Xray server can drop the payload when it shares a read with the head: seen here in 1 of 3
     * runs (the 36-byte first payload missing), which is the hazard documented on
     * {@link HttpUpgradeOptions.EarlyData}.
     */
    @ParameterizedTest(name = "xray server, tls={0}, ed={1}")
    @CsvSource({"false,NONE", "true,NONE", "true,XRAY_ED"})
    void ourClientToXrayTunnelInbound(boolean tls, String ed) throws Exception {
        try (LoopbackServers echo = LoopbackServers.echo()) {
            int port = freePort();
            String security = tls ? ",\"security\":\"tls\",\"tlsSettings\":{\"alpn\":[\"http/1.1\"],\"certificates\":"
                    + "[{\"certificateFile\":\"" + dir.resolve("cert.pem") + "\",\"keyFile\":\""
                    + dir.resolve("key.pem") + "\"}]}" : "";
            start(XRAY, port, "{\"log\":{\"loglevel\":\"debug\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":"
                    + port + ",\"protocol\":\"tunnel\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":"
                    + echo.port() + ",\"network\":\"tcp\"},\"streamSettings\":{\"network\":\"httpupgrade\","
                    + "\"httpupgradeSettings\":{\"path\":\"/hu\"}" + security + "}}],"
                    + "\"outbounds\":[{\"protocol\":\"freedom\"}]}", "run", "-c");
            HttpUpgradeOptions o = HttpUpgradeOptions.builder().path("/hu")
                    .earlyData(HttpUpgradeOptions.EarlyData.valueOf(ed)).build();
            byte[] first = "first payload, right behind the head".getBytes(StandardCharsets.US_ASCII);
            int tunnels = o.earlyData() == HttpUpgradeOptions.EarlyData.XRAY_ED ? 20 : 1;
            for (int i = 0; i < tunnels; i++) {
                roundTrip(o, port, tls, first, 0);
            }
        }
    }

    /**
     * sing-box has no early data, and its server loses bytes sent before the 101: with {@code XRAY_ED} the VLESS
     * header was lost over TLS in every run (the server then closed the tunnel) and over cleartext in 1 of 3 runs.
     * Only {@code NONE} is compatible.
     */
    @ParameterizedTest(name = "sing-box server, tls={0}, ed={1}")
    @CsvSource({"false,NONE", "true,NONE"})
    void ourClientToSingBoxVlessInbound(boolean tls, String ed) throws Exception {
        try (LoopbackServers echo = LoopbackServers.echo()) {
            int port = freePort();
            String tlsBlock = tls ? ",\"tls\":{\"enabled\":true,\"server_name\":\"localhost\",\"certificate_path\":\""
                    + dir.resolve("cert.pem") + "\",\"key_path\":\"" + dir.resolve("key.pem") + "\"}" : "";
            start(SINGBOX, port, "{\"log\":{\"level\":\"debug\"},\"inbounds\":[{\"type\":\"vless\",\"listen\":"
                    + "\"127.0.0.1\",\"listen_port\":" + port + ",\"users\":[{\"name\":\"u\",\"uuid\":\"" + ID
                    + "\"}],\"transport\":{\"type\":\"httpupgrade\",\"path\":\"/up\"}" + tlsBlock + "}],"
                    + "\"outbounds\":[{\"type\":\"direct\",\"tag\":\"direct\"}]}", "run", "-c");
            HttpUpgradeOptions o = HttpUpgradeOptions.builder().path("/up")
                    .earlyData(HttpUpgradeOptions.EarlyData.valueOf(ed)).build();
            // The VLESS response (00 00) is prepended to the first downstream bytes.
            roundTrip(o, port, tls, vlessRequest(echo.port()), 2);
        }
    }

    private void roundTrip(HttpUpgradeOptions o, int port, boolean tls, byte[] first, int responseHeader)
            throws Exception {
        byte[] data = Digests.randomBytes(DATA, 11);
        Sink sink = new Sink(responseHeader + (responseHeader == 0 ? first.length : 0) + DATA);
        try (TunnelDialer d = provider.newDialer(runtime,
                DialerConfig.of(new InetSocketAddress("127.0.0.1", port), tls ? ApiHarness.clientTls() : null), o)) {
            Channel t = d.open(Unpooled.wrappedBuffer(first), (ch, info) -> ch.pipeline().addLast(sink)).sync()
                    .getNow();
            t.writeAndFlush(Unpooled.wrappedBuffer(data)).sync();
            byte[] got;
            try {
                got = sink.done.get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("received " + sink.out.size() + " of " + sink.n + " bytes; peer log:\n"
                        + tail());
            }
            byte[] expected = responseHeader == 0 ? concat(first, data) : concat(new byte[responseHeader], data);
            assertArrayEquals(Digests.sha256(expected), Digests.sha256(got), "echo differs");
            t.close().sync();
        }
    }

    // ---------------------------------------------------------------- peer client -> our server

    /**
     * 20 tunnels per case. Not checked: Xray's client with {@code ?ed} over cleartext. It parses the 101 lazily, on
     * the proxy's first (1-byte) read, through a small bufio reader, and misreads bytes that were read together with
     * the 101: with this test's echo answering at once, 3 of 20 tunnels failed with "failed to decode response header
     * addons" (0 of 40 when the echo waited 20 ms before its first byte). Over TLS the 101 is a record of its own and
     * nothing can share its read: 20 of 20 pass.
     */
    @ParameterizedTest(name = "xray client, tls={0}, ed={1}")
    @CsvSource({"false,false", "true,false", "true,true"})
    void xrayClientToOurServer(boolean tls, boolean ed) throws Exception {
        int server = bindVlessEcho("/hu", tls);
        int socks = freePort();
        String pin = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(TestPki.get().serverCertChain()[0].getEncoded()));
        String security = tls ? ",\"security\":\"tls\",\"tlsSettings\":{\"serverName\":\"localhost\","
                + "\"pinnedPeerCertSha256\":\"" + pin + "\"}" : "";
        start(XRAY, socks, "{\"log\":{\"loglevel\":\"debug\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":"
                + socks + ",\"protocol\":\"socks\",\"settings\":{\"auth\":\"noauth\"}}],\"outbounds\":[{\"protocol\":"
                + "\"vless\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":" + server + ",\"id\":\"" + ID
                + "\",\"encryption\":\"none\"},\"streamSettings\":{\"network\":\"httpupgrade\","
                + "\"httpupgradeSettings\":{\"path\":\"/hu" + (ed ? "?ed=2048" : "") + "\"}" + security + "}}]}",
                "run", "-c");
        int failures = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            try {
                socksRoundTrip(socks);
            } catch (AssertionError e) {
                failures++;
                if (first.length() == 0) {
                    first.append(e.getMessage());
                }
            }
        }
        System.out.println("PEERCHECK xray client tls=" + tls + " ed=" + ed + ": " + failures + "/20 failed");
        assertEquals(0, failures, failures + " of 20 tunnels failed; first failure: " + first);
    }

    @ParameterizedTest(name = "sing-box client, tls={0}")
    @CsvSource({"false", "true"})
    void singBoxClientToOurServer(boolean tls) throws Exception {
        int server = bindVlessEcho("/up", tls);
        int socks = freePort();
        String tlsBlock = tls ? ",\"tls\":{\"enabled\":true,\"server_name\":\"localhost\",\"certificate_path\":\""
                + dir.resolve("ca.pem") + "\"}" : "";
        start(SINGBOX, socks, "{\"log\":{\"level\":\"debug\"},\"inbounds\":[{\"type\":\"mixed\",\"listen\":"
                + "\"127.0.0.1\",\"listen_port\":" + socks + "}],\"outbounds\":[{\"type\":\"vless\",\"tag\":\"o\","
                + "\"server\":\"127.0.0.1\",\"server_port\":" + server + ",\"uuid\":\"" + ID + "\","
                + "\"transport\":{\"type\":\"httpupgrade\",\"path\":\"/up\"}" + tlsBlock + "}],"
                + "\"route\":{\"final\":\"o\"}}", "run", "-c");
        socksRoundTrip(socks);
    }

    private int bindVlessEcho(String path, boolean tls) throws Exception {
        TunnelListener l = provider.newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                HttpUpgradeOptions.builder().path(path).build());
        InetSocketAddress a = l.bind((ch, info) -> ch.pipeline().addLast(new VlessEcho())).sync().getNow();
        return a.getPort();
    }

    /** SOCKS5 CONNECT to 127.0.0.1:9 through the peer, then 1 MiB echoed by our server. */
    private void socksRoundTrip(int socks) throws Exception {
        byte[] data = Digests.randomBytes(DATA, 12);
        try (Socket s = new Socket("127.0.0.1", socks)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write(new byte[] {5, 1, 0});
            byte[] greet = new byte[2];
            in.readFully(greet);
            assertArrayEquals(new byte[] {5, 0}, greet);
            out.write(new byte[] {5, 1, 0, 1, 127, 0, 0, 1, 0, 9});
            byte[] reply = new byte[10];
            in.readFully(reply);
            assertEquals(0, reply[1], "SOCKS reply");
            CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
                try {
                    out.write(data);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] back = new byte[DATA];
            try {
                in.readFully(back);
            } catch (IOException e) {
                throw new AssertionError("reading the echo failed: " + e + "; peer log:\n" + tail(), e);
            }
            w.get(20, TimeUnit.SECONDS);
            assertArrayEquals(Digests.sha256(data), Digests.sha256(back));
        }
    }

    // ---------------------------------------------------------------- helpers

    private void start(Path binary, int port, String config, String... args) throws Exception {
        Path cfg = dir.resolve(binary.getFileName() + "-" + port + ".json");
        Files.writeString(cfg, config);
        log = dir.resolve(binary.getFileName() + "-" + port + ".log");
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(Arrays.asList(args));
        cmd.add(cfg.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError(binary.getFileName() + " did not start:\n" + tail());
                }
                Thread.sleep(50);
            }
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** VLESS request: version 0, UUID, no addons, TCP to 127.0.0.1:port. */
    static byte[] vlessRequest(int port) {
        UUID u = UUID.fromString(ID);
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0).writeLong(u.getMostSignificantBits()).writeLong(u.getLeastSignificantBits()).writeByte(0)
                .writeByte(1).writeShort(port).writeByte(1).writeBytes(new byte[] {127, 0, 0, 1});
        byte[] r = new byte[b.readableBytes()];
        b.readBytes(r);
        b.release();
        return r;
    }

    /** Collects {@code n} bytes. */
    private static final class Sink extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int n;
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        Sink(int n) {
            this.n = n;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                synchronized (out) {
                    byte[] a = new byte[b.readableBytes()];
                    b.readBytes(a);
                    out.writeBytes(a);
                    if (out.size() >= n) {
                        done.complete(out.toByteArray());
                    }
                }
            } finally {
                b.release();
            }
        }
    }

    /**
     * Test-only VLESS server: skips the request header (version, UUID, addons, command, port, address), answers
     * {@code 00 00} and echoes everything after the header.
     */
    static final class VlessEcho extends ChannelInboundHandlerAdapter {
        private ByteBuf head = Unpooled.buffer();
        private boolean open;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (open) {
                ctx.writeAndFlush(b);
                return;
            }
            head.writeBytes(b);
            b.release();
            int need = headerLength(head);
            if (need < 0 || head.readableBytes() < need) {
                return;
            }
            head.skipBytes(need);
            open = true;
            ctx.write(Unpooled.wrappedBuffer(new byte[] {0, 0}));
            ctx.writeAndFlush(head);
            head = null;
        }

        private static int headerLength(ByteBuf h) {
            int i = h.readerIndex();
            if (h.readableBytes() < 18) {
                return -1;
            }
            int addons = h.getUnsignedByte(i + 17);
            int p = i + 18 + addons + 1 + 2; // command, port
            if (h.writerIndex() <= p) {
                return -1;
            }
            int atyp = h.getUnsignedByte(p);
            int addr = switch (atyp) {
                case 1 -> 4;
                case 3 -> 16;
                default -> h.writerIndex() > p + 1 ? 1 + h.getUnsignedByte(p + 1) : Integer.MAX_VALUE / 2;
            };
            return p + 1 + addr - i;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (head != null) {
                head.release();
                head = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
