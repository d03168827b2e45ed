package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.LoopbackServers;
import dev.tunnelwire.testkit.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Hand checks against the real peers (sing-box 1.13.2, Xray 26.7.28, gost 3.2.6) run as processes on 127.0.0.1, both
 * directions, plain and TLS. Not part of the normal build: run with
 * {@code -Dtest=WsPeerCheck} when the binaries are in {@code ~/.cache/tunnelwire/peers}. The
 * Docker interop matrix is the systematic version of this.
 *
 * <p>sing-box and Xray carry VLESS over ws, so the peer-facing side here speaks just enough VLESS: a request header
 * on the client side, and a server that strips the request header and prefixes its first reply with {@code 00 00}.
 * gost carries raw bytes (forward handler/connector).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WsPeerCheck {

    static final Path PEERS = Path.of(System.getProperty("user.home"), ".cache/tunnelwire/peers");
    static final String UUID = "27848739-7e62-4138-9fd3-098a63964b6b";
    static final WsTransportProvider PROVIDER = new WsTransportProvider();

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final Queue<String> seen = new ConcurrentLinkedQueue<>();
    private LoopbackServers echo;
    private Path dir;

    @BeforeEach
    void setUp() throws Exception {
        echo = LoopbackServers.echo();
        dir = Files.createTempDirectory("ws-peers");
        TestPki.get().writePem(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Process p : processes) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        echo.close();
        runtime.close();
        seen.forEach(s -> System.out.println("[peer-check] " + s));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private void run(String name, String log, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(log).toFile());
        processes.add(pb.start());
        seen.add("started " + name + ": " + String.join(" ", cmd) + " (log " + dir.resolve(log) + ")");
    }

    private static void awaitPort(int port) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("port " + port + " never listened");
    }

    // ---- VLESS bits -------------------------------------------------------------------------------------------

    static byte[] vlessRequest(int port) {
        java.util.UUID u = java.util.UUID.fromString(UUID);
        ByteBuf b = Unpooled.buffer();
        b.writeByte(0).writeLong(u.getMostSignificantBits()).writeLong(u.getLeastSignificantBits()).writeByte(0)
                .writeByte(1).writeShort(port).writeByte(1).writeBytes(new byte[] {127, 0, 0, 1});
        byte[] r = new byte[b.readableBytes()];
        b.readBytes(r);
        b.release();
        return r;
    }

    /** Strips a VLESS request header, then echoes, prefixing the first reply with the response header 00 00. */
    static final class FakeVlessServer extends ChannelInboundHandlerAdapter {
        private ByteBuf head;
        private boolean headerDone;
        private boolean responded;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (headerDone) {
                reply(ctx, in);
                return;
            }
            head = head == null ? in : Unpooled.wrappedBuffer(head, in);
            int len = headerLength(head);
            if (len < 0) {
                return;
            }
            headerDone = true;
            head.skipBytes(len);
            ByteBuf rest = head;
            head = null;
            if (rest.isReadable()) {
                reply(ctx, rest);
            } else {
                rest.release();
            }
        }

        private void reply(ChannelHandlerContext ctx, ByteBuf data) {
            if (!responded) {
                responded = true;
                ctx.write(Unpooled.wrappedBuffer(new byte[] {0, 0}));
            }
            ctx.writeAndFlush(data);
        }

        /** The header's length, or -1 while incomplete. */
        static int headerLength(ByteBuf b) {
            int i = b.readerIndex();
            if (b.readableBytes() < 18) {
                return -1;
            }
            int addons = b.getUnsignedByte(i + 17);
            int p = i + 18 + addons;
            if (b.writerIndex() < p + 4) {
                return -1;
            }
            int cmd = b.getUnsignedByte(p);
            if (cmd == 3) {
                return p + 1 - i;
            }
            int atyp = b.getUnsignedByte(p + 3);
            int addr = switch (atyp) {
                case 1 -> 4;
                case 3 -> 16;
                default -> b.writerIndex() > p + 4 ? 1 + b.getUnsignedByte(p + 4) : Integer.MAX_VALUE / 2;
            };
            int end = p + 4 + addr;
            return b.writerIndex() < end ? -1 : end - i;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (head != null) {
                head.release();
                head = null;
            }
            ctx.fireChannelInactive();
        }
    }

    // ---- our server, peer client ----------------------------------------------------------------------------

    private int ourServer(WsOptions o, boolean tls, boolean vless) throws Exception {
        TunnelListener l = PROVIDER.newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null), o);
        closeables.add(l);
        l.bind((ch, info) -> {
            seen.add("our server accepted " + info.path() + " headers " + info.headers().entries());
            ch.pipeline().addLast(vless ? new FakeVlessServer() : new WsEndToEndTest.Echo());
        }).sync();
        return l.localAddress().getPort();
    }

    /** Sends data through a local TCP entry of a peer client and expects it echoed. */
    private void echoThroughTcp(int port, int size) throws Exception {
        byte[] data = new byte[size];
        new java.util.Random(size).nextBytes(data);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            Thread w = new Thread(() -> {
                try {
                    out.write(data);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            w.start();
            byte[] got = new byte[size];
            in.readFully(got);
            w.join();
            assertArrayEquals(data, got);
        }
        seen.add("echoed " + size + " bytes through the peer client on :" + port);
    }

    /** Sends data through a SOCKS5 entry of a peer client (to a dummy destination: our fake VLESS server echoes). */
    private void echoThroughSocks(int socksPort, int size) throws Exception {
        byte[] data = new byte[size];
        new java.util.Random(size).nextBytes(data);
        java.net.Proxy proxy = new java.net.Proxy(java.net.Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1",
                socksPort));
        try (Socket s = new Socket(proxy)) {
            s.setSoTimeout(20_000);
            s.connect(new InetSocketAddress("127.0.0.1", 9));
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write(data, 0, Math.min(64, size));
            out.flush();
            Thread w = new Thread(() -> {
                try {
                    if (size > 64) {
                        out.write(data, 64, size - 64);
                        out.flush();
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            w.start();
            byte[] got = new byte[size];
            in.readFully(got);
            w.join();
            assertArrayEquals(data, got);
        }
        seen.add("echoed " + size + " bytes through the peer's SOCKS entry :" + socksPort);
    }

    @Test
    void gostClientToOurServer() throws Exception {
        for (boolean tls : new boolean[] {false, true}) {
            int ours = ourServer(WsOptions.builder().path("/ws").build(), tls, false);
            int entry = freePort();
            run("gost client", "gost-client-" + tls + ".log", PEERS.resolve("gost-3.2.6/gost").toString(), "-L",
                    "tcp://127.0.0.1:" + entry + "/127.0.0.1:9", "-F",
                    "forward+" + (tls ? "wss" : "ws") + "://127.0.0.1:" + ours + "?path=/ws");
            awaitPort(entry);
            echoThroughTcp(entry, 5);
            echoThroughTcp(entry, 4 * 1024 * 1024);
        }
    }

    private Channel ourClient(WsOptions o, int port, TlsClientOptions tls, byte[] first, WsEndToEndTest.Sink sink)
            throws Exception {
        TunnelDialer d = PROVIDER.newDialer(runtime, DialerConfig.of(new InetSocketAddress("127.0.0.1", port), tls),
                o);
        closeables.add(d);
        return d.open(first == null ? null : Unpooled.wrappedBuffer(first),
                (ch, info) -> {
                    seen.add("peer 101 to our client for " + info.path() + ": " + info.headers().entries());
                    ch.pipeline().addLast(sink);
                }).get(10, TimeUnit.SECONDS);
    }

    private void roundTrip(WsOptions o, int port, TlsClientOptions tls, byte[] header, int size, int replyPrefix)
            throws Exception {
        byte[] data = new byte[size];
        new java.util.Random(size).nextBytes(data);
        byte[] first = header == null ? Arrays.copyOf(data, Math.min(size, 100))
                : concat(header, Arrays.copyOf(data, Math.min(size, 100)));
        WsEndToEndTest.Sink sink = new WsEndToEndTest.Sink(replyPrefix + size);
        Channel t = ourClient(o, port, tls, first, sink);
        if (size > 100) {
            t.writeAndFlush(Unpooled.wrappedBuffer(data, 100, size - 100));
        }
        byte[] got = sink.done.get(30, TimeUnit.SECONDS);
        assertArrayEquals(data, Arrays.copyOfRange(got, replyPrefix, got.length), o.toString());
        t.close().sync();
        seen.add("our client " + o.earlyData() + " path " + o.path() + " tls=" + (tls != null) + ": " + size
                + " bytes echoed");
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void ourClientToGostServer() throws Exception {
        int plain = freePort();
        int tls = freePort();
        String gost = PEERS.resolve("gost-3.2.6/gost").toString();
        run("gost server", "gost-server.log", gost, "-L", "ws://127.0.0.1:" + plain + "/" + echo.address().getHostString()
                + ":" + echo.port() + "?path=/ws", "-L", "wss://127.0.0.1:" + tls + "/127.0.0.1:" + echo.port()
                + "?path=/ws&cert=cert.pem&key=key.pem");
        awaitPort(plain);
        awaitPort(tls);
        WsOptions o = WsOptions.builder().path("/ws").build();
        roundTrip(o, plain, null, null, 5, 0);
        roundTrip(o, plain, null, null, 4 * 1024 * 1024, 0);
        roundTrip(o, tls, ApiHarness.clientTls(), null, 4 * 1024 * 1024, 0);
    }

    @Test
    void ourClientToXrayServer() throws Exception {
        int raw = freePort();
        int vless = freePort();
        int vlessTls = freePort();
        String cert = dir.resolve("cert.pem").toString();
        String key = dir.resolve("key.pem").toString();
        String cfg = """
                {"log": {"loglevel": "debug"},
                 "inbounds": [
                  {"tag": "raw", "listen": "127.0.0.1", "port": %d, "protocol": "tunnel",
                   "settings": {"address": "127.0.0.1", "port": %d, "network": "tcp"},
                   "streamSettings": {"network": "ws", "wsSettings": {"path": "/raw"}}},
                  {"tag": "vless", "listen": "127.0.0.1", "port": %d, "protocol": "vless",
                   "settings": {"clients": [{"id": "%s"}], "decryption": "none"},
                   "streamSettings": {"network": "ws", "wsSettings": {"path": "/ws"}}},
                  {"tag": "vless-tls", "listen": "127.0.0.1", "port": %d, "protocol": "vless",
                   "settings": {"clients": [{"id": "%s"}], "decryption": "none"},
                   "streamSettings": {"network": "ws", "security": "tls", "wsSettings": {"path": "/ws"},
                     "tlsSettings": {"certificates": [{"certificateFile": "%s", "keyFile": "%s"}]}}}],
                 "outbounds": [{"protocol": "freedom", "settings": {"finalRules": [{"action": "allow"}]}}]}
                """.formatted(raw, echo.port(), vless, UUID, vlessTls, UUID, cert, key);
        Files.writeString(dir.resolve("xray-server.json"), cfg);
        run("xray server", "xray-server.log", PEERS.resolve("xray-26.7.28/xray").toString(), "run", "-c",
                "xray-server.json");
        awaitPort(raw);
        awaitPort(vless);
        awaitPort(vlessTls);
        byte[] h = vlessRequest(echo.port());
        roundTrip(WsOptions.builder().path("/raw?ed=2048").build(), raw, null, null, 4 * 1024 * 1024, 0);
        roundTrip(WsOptions.builder().path("/raw").build(), raw, null, null, 5, 0);
        roundTrip(WsOptions.builder().path("/ws?ed=2048").build(), vless, null, h, 4 * 1024 * 1024, 2);
        roundTrip(WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).build(), vless, null,
                h, 1000, 2);
        roundTrip(WsOptions.builder().path("/ws").fragmentSize(4096).build(), vless, null, h, 100_000, 2);
        roundTrip(WsOptions.builder().path("/ws?ed=2048").build(), vlessTls, ApiHarness.clientTls(), h,
                4 * 1024 * 1024, 2);
    }

    @Test
    void xrayClientToOurServer() throws Exception {
        int oursPlain = ourServer(WsOptions.builder().path("/ws").build(), false, true);
        int oursTls = ourServer(WsOptions.builder().path("/ws").build(), true, true);
        int entryEd = freePort();
        int entryPlain = freePort();
        int entryTls = freePort();
        String pin = sha256Hex(TestPki.get().serverCertChain()[0].getEncoded());
        String cfg = """
                {"log": {"loglevel": "debug"},
                 "inbounds": [
                  {"tag": "ed", "listen": "127.0.0.1", "port": %d, "protocol": "tunnel",
                   "settings": {"address": "127.0.0.1", "port": 9, "network": "tcp"}},
                  {"tag": "plain", "listen": "127.0.0.1", "port": %d, "protocol": "tunnel",
                   "settings": {"address": "127.0.0.1", "port": 9, "network": "tcp"}},
                  {"tag": "tls", "listen": "127.0.0.1", "port": %d, "protocol": "tunnel",
                   "settings": {"address": "127.0.0.1", "port": 9, "network": "tcp"}}],
                 "outbounds": [
                  {"tag": "o-ed", "protocol": "vless",
                   "settings": {"address": "127.0.0.1", "port": %d, "id": "%s", "encryption": "none"},
                   "streamSettings": {"network": "ws", "wsSettings": {"path": "/ws?ed=2048"}}},
                  {"tag": "o-plain", "protocol": "vless",
                   "settings": {"address": "127.0.0.1", "port": %d, "id": "%s", "encryption": "none"},
                   "streamSettings": {"network": "ws", "wsSettings": {"path": "/ws"}}},
                  {"tag": "o-tls", "protocol": "vless",
                   "settings": {"address": "127.0.0.1", "port": %d, "id": "%s", "encryption": "none"},
                   "streamSettings": {"network": "ws", "wsSettings": {"path": "/ws?ed=2048"}, "security": "tls",
                     "tlsSettings": {"serverName": "localhost", "pinnedPeerCertSha256": "%s"}}}],
                 "routing": {"rules": [
                  {"type": "field", "inboundTag": ["ed"], "outboundTag": "o-ed"},
                  {"type": "field", "inboundTag": ["plain"], "outboundTag": "o-plain"},
                  {"type": "field", "inboundTag": ["tls"], "outboundTag": "o-tls"}]}}
                """.formatted(entryEd, entryPlain, entryTls, oursPlain, UUID, oursPlain, UUID, oursTls, UUID, pin);
        Files.writeString(dir.resolve("xray-client.json"), cfg);
        run("xray client", "xray-client.log", PEERS.resolve("xray-26.7.28/xray").toString(), "run", "-c",
                "xray-client.json");
        awaitPort(entryEd);
        echoThroughTcpVless(entryEd);
        echoThroughTcpVless(entryPlain);
        echoThroughTcpVless(entryTls);
    }

    /** Through a peer's raw TCP entry whose outbound is VLESS to our fake VLESS server: the reply starts with 00 00. */
    private void echoThroughTcpVless(int port) throws Exception {
        int size = 4 * 1024 * 1024;
        byte[] data = new byte[size];
        new java.util.Random(size).nextBytes(data);
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            out.write(data, 0, 64);
            out.flush();
            Thread w = new Thread(() -> {
                try {
                    out.write(data, 64, size - 64);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            w.start();
            byte[] got = new byte[size];
            in.readFully(got);
            w.join();
            assertArrayEquals(data, got);
        }
        seen.add("echoed " + size + " bytes through the peer's TCP entry :" + port);
    }

    static String sha256Hex(byte[] der) throws Exception {
        byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(der);
        StringBuilder b = new StringBuilder();
        for (byte x : d) {
            b.append(String.format("%02x", x));
        }
        return b.toString();
    }

    @Test
    void ourClientToSingBoxServer() throws Exception {
        int header = freePort();
        int path = freePort();
        int tls = freePort();
        String cfg = """
                {"log": {"level": "debug"},
                 "inbounds": [
                  {"type": "vless", "tag": "in-ws", "listen": "127.0.0.1", "listen_port": %d,
                   "users": [{"name": "u", "uuid": "%s"}],
                   "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048,
                                 "early_data_header_name": "Sec-WebSocket-Protocol"}},
                  {"type": "vless", "tag": "in-ws-pathed", "listen": "127.0.0.1", "listen_port": %d,
                   "users": [{"name": "u", "uuid": "%s"}],
                   "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048}},
                  {"type": "vless", "tag": "in-ws-tls", "listen": "127.0.0.1", "listen_port": %d,
                   "users": [{"name": "u", "uuid": "%s"}],
                   "tls": {"enabled": true, "server_name": "localhost",
                           "certificate_path": "cert.pem", "key_path": "key.pem"},
                   "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048,
                                 "early_data_header_name": "Sec-WebSocket-Protocol"}}],
                 "outbounds": [{"type": "direct", "tag": "direct"}]}
                """.formatted(header, UUID, path, UUID, tls, UUID);
        Files.writeString(dir.resolve("singbox-server.json"), cfg);
        run("sing-box server", "singbox-server.log", PEERS.resolve("singbox-1.13.2/sing-box").toString(), "run",
                "-c", "singbox-server.json");
        awaitPort(header);
        awaitPort(path);
        awaitPort(tls);
        byte[] h = vlessRequest(echo.port());
        WsOptions hdr = WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).build();
        roundTrip(hdr, header, null, h, 4 * 1024 * 1024, 2);
        roundTrip(WsOptions.builder().path("/ws?ed=2048").build(), header, null, h, 1000, 2);
        roundTrip(WsOptions.builder().path("/ws").build(), header, null, h, 1000, 2);
        WsOptions pth = WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build();
        roundTrip(pth, path, null, h, 4 * 1024 * 1024, 2);
        roundTrip(WsOptions.builder().path("/ws").fragmentSize(4096).build(), path, null, h, 100_000, 2);
        roundTrip(hdr, tls, ApiHarness.clientTls(), h, 4 * 1024 * 1024, 2);
    }

    @Test
    void singBoxClientToOurServer() throws Exception {
        int ours = ourServer(WsOptions.builder().path("/ws").build(), false, true);
        int oursTls = ourServer(WsOptions.builder().path("/ws").build(), true, true);
        int pathEntry = freePort();
        int headerEntry = freePort();
        int plainEntry = freePort();
        int tlsEntry = freePort();
        String cfg = """
                {"log": {"level": "debug"},
                 "inbounds": [
                  {"type": "mixed", "tag": "m-path", "listen": "127.0.0.1", "listen_port": %d},
                  {"type": "mixed", "tag": "m-header", "listen": "127.0.0.1", "listen_port": %d},
                  {"type": "mixed", "tag": "m-plain", "listen": "127.0.0.1", "listen_port": %d},
                  {"type": "mixed", "tag": "m-tls", "listen": "127.0.0.1", "listen_port": %d}],
                 "outbounds": [
                  {"type": "direct", "tag": "direct"},
                  {"type": "vless", "tag": "o-path", "server": "127.0.0.1", "server_port": %d, "uuid": "%s",
                   "packet_encoding": "", "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048}},
                  {"type": "vless", "tag": "o-header", "server": "127.0.0.1", "server_port": %d, "uuid": "%s",
                   "packet_encoding": "", "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048,
                   "early_data_header_name": "Sec-WebSocket-Protocol"}},
                  {"type": "vless", "tag": "o-plain", "server": "127.0.0.1", "server_port": %d, "uuid": "%s",
                   "packet_encoding": "", "transport": {"type": "ws", "path": "/ws"}},
                  {"type": "vless", "tag": "o-tls", "server": "127.0.0.1", "server_port": %d, "uuid": "%s",
                   "packet_encoding": "", "tls": {"enabled": true, "server_name": "localhost",
                   "certificate_path": "ca.pem"},
                   "transport": {"type": "ws", "path": "/ws", "max_early_data": 2048}}],
                 "route": {"rules": [
                  {"inbound": ["m-path"], "action": "route", "outbound": "o-path"},
                  {"inbound": ["m-header"], "action": "route", "outbound": "o-header"},
                  {"inbound": ["m-plain"], "action": "route", "outbound": "o-plain"},
                  {"inbound": ["m-tls"], "action": "route", "outbound": "o-tls"}], "final": "direct"}}
                """.formatted(pathEntry, headerEntry, plainEntry, tlsEntry, ours, UUID, ours, UUID, ours, UUID,
                oursTls, UUID);
        Files.writeString(dir.resolve("singbox-client.json"), cfg);
        run("sing-box client", "singbox-client.log", PEERS.resolve("singbox-1.13.2/sing-box").toString(), "run",
                "-c", "singbox-client.json");
        awaitPort(pathEntry);
        echoThroughSocks(pathEntry, 4 * 1024 * 1024);
        echoThroughSocks(headerEntry, 4 * 1024 * 1024);
        echoThroughSocks(plainEntry, 1000);
        echoThroughSocks(tlsEntry, 4 * 1024 * 1024);
    }
}
