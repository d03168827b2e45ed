package dev.tunnelwire.transport.grpc;

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
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hand checks against the real peer binaries (Xray 26.7.28, sing-box 1.13.2 lite and with_grpc, gost 3.2.6), both
 * directions, cleartext and TLS, run as plain processes on 127.0.0.1. Opt-in, because the binaries are built
 * elsewhere: {@code -Dtest=GrpcPeerCheck}; binaries are looked up in
 * {@code ${TUNNELWIRE_CACHE:-~/.cache/tunnelwire}/peers}. Each check moves 1 MiB each way and compares it. The Docker
 * interop matrix is the systematic version of this.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcPeerCheck {

    private static final String UUID_STR = "27848739-7e62-4138-9fd3-098a63964b6b";
    private static final Path PEERS = Path.of(System.getenv().getOrDefault("TUNNELWIRE_CACHE",
            System.getProperty("user.home") + "/.cache/tunnelwire"), "peers");

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private Path dir;
    private LoopbackServers echo;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("grpc-peers");
        TestPki.get().writePem(dir);
        echo = LoopbackServers.echo();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        echo.close();
        runtime.close();
    }

    // ------------------------------------------------------------------ our client -> peer server

    @Test
    void ourTunClientToXrayServerPlain() throws Exception {
        xrayServer(false, "gunsvc");
        ourRawClient(GrpcOptions.builder().serviceName("gunsvc").build(), false);
    }

    @Test
    void ourMultiClientToXrayServerPlain() throws Exception {
        xrayServer(false, "gunsvc");
        ourRawClient(GrpcOptions.builder().serviceName("gunsvc").multi(true).build(), false);
    }

    @Test
    void ourTunClientToXrayServerTls() throws Exception {
        xrayServer(true, "gunsvc");
        ourRawClient(GrpcOptions.builder().serviceName("gunsvc").build(), true);
    }

    @Test
    void ourMultiClientToXrayServerTlsWithCustomPath() throws Exception {
        xrayServer(true, "/my/svc/t|m");
        ourRawClient(GrpcOptions.builder().serviceName("/my/svc/m").multi(true).build(), true);
    }

    @Test
    void ourClientToSingBoxLiteServerPlain() throws Exception {
        singBoxServer("singbox-1.13.2", false);
        ourVlessClient(GrpcOptions.builder().serviceName("TunService").build(), false);
    }

    @Test
    void ourClientToSingBoxLiteServerTls() throws Exception {
        singBoxServer("singbox-1.13.2", true);
        ourVlessClient(GrpcOptions.builder().serviceName("TunService").build(), true);
    }

    @Test
    void ourClientToSingBoxGrpcServerPlain() throws Exception {
        singBoxServer("singbox-grpc-1.13.2", false);
        ourVlessClient(GrpcOptions.builder().serviceName("TunService").build(), false);
    }

    @Test
    void ourClientToSingBoxGrpcServerTls() throws Exception {
        singBoxServer("singbox-grpc-1.13.2", true);
        ourVlessClient(GrpcOptions.builder().serviceName("TunService").build(), true);
    }

    @Test
    void ourClientToGostServerPlain() throws Exception {
        int port = freePort();
        peer("gost-3.2.6", "gost", port, "-L",
                "grpc://127.0.0.1:" + port + "/" + echoAddr() + "?grpcInsecure=true");
        ourRawClient(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build(), false, port);
    }

    @Test
    void ourClientToGostServerTlsWithPath() throws Exception {
        int port = freePort();
        peer("gost-3.2.6", "gost", port, "-L", "grpc://127.0.0.1:" + port + "/" + echoAddr()
                + "?path=/a/b/c&cert=" + dir.resolve("cert.pem") + "&key=" + dir.resolve("key.pem"));
        ourRawClient(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).gostPath("/a/b/c").build(), true,
                port);
    }

    // ------------------------------------------------------------------ our half-close, the server's end

    @Test
    void ourHalfCloseAndXrayServerEndWithTrailers() throws Exception {
        try (LoopbackServers sink = LoopbackServers.sink(new CompletableFuture<>())) {
            xrayServer(false, "gunsvc", sink.port());
            halfCloseToSink(GrpcOptions.builder().serviceName("gunsvc").build(), false, serverPort, null, false);
        }
    }

    @Test
    void ourHalfCloseAndSingBoxLiteServerEndWithoutTrailers() throws Exception {
        try (LoopbackServers sink = LoopbackServers.sink(new CompletableFuture<>())) {
            singBoxServer("singbox-1.13.2", false);
            halfCloseToSink(GrpcOptions.builder().serviceName("TunService").build(), false, serverPort,
                    vlessHeader(sink.port()), false);
        }
    }

    @Test
    void ourHalfCloseAndSingBoxGrpcServerEnd() throws Exception {
        try (LoopbackServers sink = LoopbackServers.sink(new CompletableFuture<>())) {
            singBoxServer("singbox-grpc-1.13.2", true);
            halfCloseToSink(GrpcOptions.builder().serviceName("TunService").build(), true, serverPort,
                    vlessHeader(sink.port()), false);
        }
    }

    @Test
    void ourHalfCloseAndGostServerEnd() throws Exception {
        try (LoopbackServers sink = LoopbackServers.sink(new CompletableFuture<>())) {
            int port = freePort();
            peer("gost-3.2.6", "gost", port, "-L",
                    "grpc://127.0.0.1:" + port + "/127.0.0.1:" + sink.port() + "?grpcInsecure=true");
            halfCloseToSink(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build(), false, port, null, true);
        }
    }

    /**
     * Sends 100 KB to a sink behind the peer, half-closes, and expects a clean end of the call (trailers with
     * grpc-status 0, or sing-box lite's end without trailers), no error. Only gost carries the half-close through
     * (the sink's 8-byte count comes back first): Xray and sing-box servers end the call as soon as the client ends
     * its stream, so what the destination sends after the half-close is lost (observed with both, and with
     * sing-box's lite and grpc-go servers alike).
     */
    private void halfCloseToSink(GrpcOptions options, boolean tls, int port, ByteBuf vless,
                                 boolean peerCarriesHalfClose) throws Exception {
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(new InetSocketAddress("127.0.0.1", port), tls ? ApiHarness.clientTls() : null),
                options);
        closeables.add(d);
        ByteBuf collected = Unpooled.buffer();
        closeables.add(collected::release);
        CompletableFuture<Void> ended = new CompletableFuture<>();
        Channel t = d.open(vless, (ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                collected.writeBytes(b);
                b.release();
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
                    ended.complete(null);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ended.completeExceptionally(cause);
            }
        })).sync().getNow();
        byte[] data = Digests.randomBytes(100_000, 21);
        t.writeAndFlush(Unpooled.wrappedBuffer(data));
        dev.tunnelwire.Tunnels.shutdownOutput(t);
        ended.get(15, TimeUnit.SECONDS);
        if (!peerCarriesHalfClose) {
            t.close().sync();
            return;
        }
        int skip = vless == null ? 0 : 2;
        assertTrue(collected.readableBytes() == skip + 8, "got " + ByteBufUtil.hexDump(collected));
        assertTrue(collected.getLong(skip) == data.length, "sink count " + collected.getLong(skip));
        t.close().sync();
    }

    private static ByteBuf vlessHeader(int targetPort) {
        ByteBuf header = Unpooled.buffer();
        header.writeByte(0);
        UUID u = UUID.fromString(UUID_STR);
        header.writeLong(u.getMostSignificantBits()).writeLong(u.getLeastSignificantBits());
        header.writeByte(0).writeByte(1).writeShort(targetPort).writeByte(1).writeBytes(new byte[] {127, 0, 0, 1});
        return header;
    }

    // ------------------------------------------------------------------ peer client -> our server

    @Test
    void xrayTunClientToOurServerPlain() throws Exception {
        xrayClientToOurServer(false, false);
    }

    @Test
    void xrayMultiClientToOurServerPlain() throws Exception {
        xrayClientToOurServer(false, true);
    }

    @Test
    void xrayTunClientToOurServerTls() throws Exception {
        xrayClientToOurServer(true, false);
    }

    @Test
    void xrayMultiClientToOurServerTls() throws Exception {
        xrayClientToOurServer(true, true);
    }

    @Test
    void singBoxLiteClientToOurServerPlain() throws Exception {
        singBoxClientToOurServer("singbox-1.13.2", false);
    }

    @Test
    void singBoxLiteClientToOurServerTls() throws Exception {
        singBoxClientToOurServer("singbox-1.13.2", true);
    }

    @Test
    void singBoxGrpcClientToOurServerPlain() throws Exception {
        singBoxClientToOurServer("singbox-grpc-1.13.2", false);
    }

    @Test
    void singBoxGrpcClientToOurServerTls() throws Exception {
        singBoxClientToOurServer("singbox-grpc-1.13.2", true);
    }

    @Test
    void gostClientToOurServerPlain() throws Exception {
        InetSocketAddress ours = ourServer(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build(), false,
                false);
        int entry = freePort();
        peer("gost-3.2.6", "gost", entry, "-L", "tcp://127.0.0.1:" + entry + "/127.0.0.1:9", "-F",
                "forward+grpc://127.0.0.1:" + ours.getPort() + "?grpcInsecure=true");
        exchangeThrough(entry);
    }

    @Test
    void gostClientToOurServerTlsWithPath() throws Exception {
        InetSocketAddress ours = ourServer(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST)
                .gostPath("/x/y").build(), true, false);
        int entry = freePort();
        peer("gost-3.2.6", "gost", entry, "-L", "tcp://127.0.0.1:" + entry + "/127.0.0.1:9", "-F",
                "forward+grpc://127.0.0.1:" + ours.getPort() + "?path=/x/y");
        exchangeThrough(entry);
    }

    @Test
    void gostKeepaliveClientIsPermitted() throws Exception {
        InetSocketAddress ours = ourServer(GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build(), false,
                false);
        int entry = freePort();
        peer("gost-3.2.6", "gost", entry, "-L", "tcp://127.0.0.1:" + entry + "/127.0.0.1:9", "-F",
                "forward+grpc://127.0.0.1:" + ours.getPort() + "?grpcInsecure=true&keepalive=true");
        exchangeThrough(entry);
    }

    // ------------------------------------------------------------------ peers

    private void xrayServer(boolean tls, String serviceName) throws Exception {
        xrayServer(tls, serviceName, echo.port());
    }

    private void xrayServer(boolean tls, String serviceName, int target) throws Exception {
        int port = freePort();
        String security = tls ? ",\"security\":\"tls\",\"tlsSettings\":{\"certificates\":[{\"certificateFile\":\""
                + dir.resolve("cert.pem") + "\",\"keyFile\":\"" + dir.resolve("key.pem") + "\"}]}" : "";
        String config = "{\"log\":{\"loglevel\":\"debug\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":" + port
                + ",\"protocol\":\"tunnel\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":" + target
                + ",\"network\":\"tcp\"},\"streamSettings\":{\"network\":\"grpc\",\"grpcSettings\":{\"serviceName\":\""
                + serviceName + "\"}" + security + "}}],\"outbounds\":[{\"protocol\":\"freedom\"}]}";
        Path file = write("xray-server.json", config);
        peer("xray-26.7.28", "xray", port, "run", "-c", file.toString());
        serverPort = port;
    }

    private void singBoxServer(String peerDir, boolean tls) throws Exception {
        int port = freePort();
        String tlsBlock = tls ? ",\"tls\":{\"enabled\":true,\"certificate_path\":\"" + dir.resolve("cert.pem")
                + "\",\"key_path\":\"" + dir.resolve("key.pem") + "\"}" : "";
        String config = "{\"log\":{\"level\":\"debug\"},\"inbounds\":[{\"type\":\"vless\",\"listen\":\"127.0.0.1\","
                + "\"listen_port\":" + port + ",\"users\":[{\"name\":\"u\",\"uuid\":\"" + UUID_STR + "\"}]"
                + tlsBlock + ",\"transport\":{\"type\":\"grpc\",\"service_name\":\"TunService\"}}],"
                + "\"outbounds\":[{\"type\":\"direct\"}]}";
        Path file = write(peerDir + "-server.json", config);
        peer(peerDir, "sing-box", port, "run", "-c", file.toString());
        serverPort = port;
    }

    private void xrayClientToOurServer(boolean tls, boolean multi) throws Exception {
        InetSocketAddress ours = ourServer(GrpcOptions.builder().serviceName("gunsvc").build(), tls, true);
        int entry = freePort();
        String security = tls ? ",\"security\":\"tls\",\"tlsSettings\":{\"serverName\":\"localhost\","
                + "\"pinnedPeerCertSha256\":\"" + leafSha256() + "\"}" : "";
        String config = "{\"log\":{\"loglevel\":\"debug\"},\"inbounds\":[{\"listen\":\"127.0.0.1\",\"port\":" + entry
                + ",\"protocol\":\"tunnel\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":9,\"network\":\"tcp\"}}],"
                + "\"outbounds\":[{\"protocol\":\"vless\",\"settings\":{\"address\":\"127.0.0.1\",\"port\":"
                + ours.getPort() + ",\"id\":\"" + UUID_STR + "\",\"encryption\":\"none\"},\"streamSettings\":{"
                + "\"network\":\"grpc\",\"grpcSettings\":{\"serviceName\":\"gunsvc\",\"multiMode\":" + multi + "}"
                + security + "}}]}";
        Path file = write("xray-client.json", config);
        peer("xray-26.7.28", "xray", entry, "run", "-c", file.toString());
        exchangeThrough(entry);
    }

    private void singBoxClientToOurServer(String peerDir, boolean tls) throws Exception {
        InetSocketAddress ours = ourServer(GrpcOptions.builder().serviceName("TunService").build(), tls, true);
        int entry = freePort();
        String tlsBlock = tls ? ",\"tls\":{\"enabled\":true,\"server_name\":\"localhost\",\"certificate_path\":\""
                + dir.resolve("ca.pem") + "\"}" : "";
        String config = "{\"log\":{\"level\":\"debug\"},\"inbounds\":[{\"type\":\"direct\",\"listen\":\"127.0.0.1\","
                + "\"listen_port\":" + entry + ",\"override_address\":\"127.0.0.1\",\"override_port\":9}],"
                + "\"outbounds\":[{\"type\":\"vless\",\"tag\":\"out\",\"server\":\"127.0.0.1\",\"server_port\":"
                + ours.getPort() + ",\"uuid\":\"" + UUID_STR + "\",\"packet_encoding\":\"\"" + tlsBlock
                + ",\"transport\":{\"type\":\"grpc\",\"service_name\":\"TunService\"}}],\"route\":{\"final\":\"out\"}}";
        Path file = write(peerDir + "-client.json", config);
        peer(peerDir, "sing-box", entry, "run", "-c", file.toString());
        exchangeThrough(entry);
    }

    private int serverPort;

    private void peer(String peerDir, String binary, int port, String... args) throws Exception {
        Path bin = PEERS.resolve(peerDir).resolve(binary);
        if (!Files.isExecutable(bin)) {
            try (var s = Files.list(PEERS)) {
                bin = s.filter(p -> p.getFileName().toString().startsWith(peerDir)).map(p -> p.resolve(binary))
                        .filter(Files::isExecutable).findFirst().orElse(bin);
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(Files.isExecutable(bin), "peer binary " + bin);
        List<String> cmd = new ArrayList<>();
        cmd.add(bin.toString());
        cmd.addAll(List.of(args));
        Path log = dir.resolve(peerDir + "-" + port + ".log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        closeables.add(() -> {
            p.destroy();
            if (!p.waitFor(3, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            System.out.println("---- " + String.join(" ", cmd) + "\n" + tail(log));
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new AssertionError("peer exited: " + tail(log));
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("peer did not listen on " + port + ": " + tail(log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    // ------------------------------------------------------------------ our side

    private void ourRawClient(GrpcOptions options, boolean tls) throws Exception {
        ourRawClient(options, tls, serverPort);
    }

    private void ourRawClient(GrpcOptions options, boolean tls, int port) throws Exception {
        byte[] data = Digests.randomBytes(1024 * 1024, 11);
        byte[] got = ourClientExchange(options, tls, port, null, data, data.length);
        assertArrayEquals(data, got);
    }

    private void ourVlessClient(GrpcOptions options, boolean tls) throws Exception {
        byte[] data = Digests.randomBytes(1024 * 1024, 12);
        byte[] got = ourClientExchange(options, tls, serverPort, vlessHeader(echo.port()), data, data.length + 2);
        assertArrayEquals(new byte[] {0, 0}, java.util.Arrays.copyOf(got, 2), "VLESS response header");
        assertArrayEquals(data, java.util.Arrays.copyOfRange(got, 2, got.length));
    }

    private byte[] ourClientExchange(GrpcOptions options, boolean tls, int port, ByteBuf first, byte[] data,
                                     int expect) throws Exception {
        TunnelDialer d = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(new InetSocketAddress("127.0.0.1", port), tls ? ApiHarness.clientTls() : null),
                options);
        closeables.add(d);
        ByteBuf collected = Unpooled.buffer();
        closeables.add(collected::release);
        CompletableFuture<Void> done = new CompletableFuture<>();
        Channel t = d.open(first, (ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                collected.writeBytes(b);
                b.release();
                if (collected.readableBytes() >= expect) {
                    done.complete(null);
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                done.completeExceptionally(cause);
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                done.completeExceptionally(new IllegalStateException("closed after " + collected.readableBytes()));
            }
        })).sync().getNow();
        for (int off = 0; off < data.length; off += 50_000) {
            t.writeAndFlush(Unpooled.wrappedBuffer(data, off, Math.min(50_000, data.length - off)));
        }
        done.get(30, TimeUnit.SECONDS);
        t.close().sync();
        return ByteBufUtil.getBytes(collected);
    }

    private InetSocketAddress ourServer(GrpcOptions options, boolean tls, boolean vless) throws Exception {
        TunnelListener l = new GrpcTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null),
                options.toBuilder().serve(EnumSet.allOf(GrpcOptions.Flavour.class)).build());
        closeables.add(l);
        return l.bind((ch, info) -> {
            System.out.println("accepted " + info);
            if (vless) {
                ch.pipeline().addLast(new VlessServer());
            }
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ctx.writeAndFlush(msg);
                }
            });
        }).sync().getNow();
    }

    /** The smallest VLESS server: strips the request header, prefixes the first response with {@code 00 00}. */
    private static final class VlessServer extends ChannelDuplexHandler {
        private ByteBuf pending = Unpooled.buffer();
        private boolean headerDone;
        private boolean responded;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            if (headerDone) {
                ctx.fireChannelRead(b);
                return;
            }
            pending.writeBytes(b);
            b.release();
            int len = headerLength(pending);
            if (len > 0) {
                headerDone = true;
                pending.skipBytes(len);
                ByteBuf rest = pending;
                pending = null;
                if (rest.isReadable()) {
                    ctx.fireChannelRead(rest);
                } else {
                    rest.release();
                }
                // A VLESS server answers even when no data comes back yet.
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
            }
        }

        private static int headerLength(ByteBuf b) {
            int i = b.readerIndex();
            if (b.readableBytes() < 18) {
                return -1;
            }
            int addons = b.getUnsignedByte(i + 17);
            int p = i + 18 + addons + 1 + 2;
            if (b.writerIndex() < p + 1) {
                return -1;
            }
            int atyp = b.getUnsignedByte(p);
            int addr = atyp == 1 ? 4 : atyp == 3 ? 16 : b.writerIndex() > p + 1 ? 1 + b.getUnsignedByte(p + 1) : -1;
            if (addr < 0 || b.writerIndex() < p + 1 + addr) {
                return -1;
            }
            return p + 1 + addr - i;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (!responded && msg instanceof ByteBuf b) {
                responded = true;
                ByteBuf out = ctx.alloc().buffer(2 + b.readableBytes()).writeByte(0).writeByte(0).writeBytes(b);
                b.release();
                ctx.write(out, promise);
                return;
            }
            ctx.write(msg, promise);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Sends 1 MiB through a peer's raw TCP entry and expects it echoed. */
    private void exchangeThrough(int entry) throws Exception {
        byte[] data = Digests.randomBytes(1024 * 1024, 13);
        try (Socket s = new Socket("127.0.0.1", entry)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            Thread writer = new Thread(() -> {
                try {
                    for (int off = 0; off < data.length; off += 16_384) {
                        out.write(data, off, Math.min(16_384, data.length - off));
                    }
                    out.flush();
                } catch (IOException ignored) {
                    // the reader reports
                }
            });
            writer.start();
            InputStream in = s.getInputStream();
            byte[] got = in.readNBytes(data.length);
            writer.join(5_000);
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                    MessageDigest.getInstance("SHA-256").digest(got), "echoed " + got.length + " bytes");
        }
    }

    private String echoAddr() {
        return "127.0.0.1:" + echo.port();
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private static String leafSha256() throws Exception {
        return ByteBufUtil.hexDump(MessageDigest.getInstance("SHA-256")
                .digest(TestPki.get().serverCertChain()[0].getEncoded()));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
