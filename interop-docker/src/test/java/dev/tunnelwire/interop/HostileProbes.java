package dev.tunnelwire.interop;

import com.sun.net.httpserver.HttpServer;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.conformance.H2;
import dev.tunnelwire.internal.h2.H2Codecs;
import dev.tunnelwire.internal.h2.H2Settings;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.h2tunnel.H2TunnelOptions;
import dev.tunnelwire.transport.tcp.TcpOptions;
import dev.tunnelwire.transport.tcp.TcpTransportProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.internal.PlatformDependent;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The hostile-client probes of issue #17, run against tunnelwire's listeners in this JVM (no peers involved): what
 * an attacker on the network can make a server hold, buffer or log. Each probe returns {@link HostileReport.Probe}
 * rows with the figures the report shows; {@link HostileIT} asserts the bounds.
 *
 * <ul>
 *   <li><b>slowloris</b>: connections that trickle their handshake one byte a second, to every listener with a
 *       handshake (HTTP/1 heads, HTTP/2 prefaces, TLS, SOCKS5) — each must be closed by the listener's handshake or
 *       preface timeout;</li>
 *   <li><b>junk</b>: 4 KiB of random bytes to every listener — closed at once or by the timeout;</li>
 *   <li><b>oversize ws frame</b>: a frame header declaring 1 GiB, then 64 MiB of payload — refused at the header,
 *       direct memory does not grow;</li>
 *   <li><b>made you reset</b> and <b>idle HTTP/2</b> on the HTTP/2 listeners;</li>
 *   <li><b>plain-proxy fds</b>: 1,000 plain GETs through the HTTP proxy, the process's file descriptors back to
 *       their baseline afterwards.</li>
 * </ul>
 * Log lines written meanwhile are counted (WARN/ERROR lines and stack-trace lines: what an operator would see).
 */
final class HostileProbes implements AutoCloseable {

    /** Connections per listener and probe. */
    static final int CONNECTIONS = 10;
    /** How long a probe waits for the server to close a connection before counting it as held. */
    static final long DEADLINE_MILLIS = 40_000;
    static final int PLAIN_GETS = 1_000;
    /** File descriptors the rest of the JVM may open or close during the fd probe (not the probe's own). */
    static final int FD_NOISE = 8;

    private static final byte[] H2_PREFACE = H2.PREFACE;

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hostile-probe");
        t.setDaemon(true);
        return t;
    });

    /** A listener under attack: its name, address, whether it speaks TLS, and what a slow handshake looks like. */
    record Target(String name, InetSocketAddress address, boolean tls, byte[] handshake) {
    }

    // ---------------------------------------------------------------- listeners

    private InetSocketAddress listen(String scheme, TransportOptions options, boolean tls) throws Exception {
        return listen(scheme, options, tls, false);
    }

    /** A listener with its defaults (or {@code options}); accepted tunnels are closed at once unless kept open. */
    private InetSocketAddress listen(String scheme, TransportOptions options, boolean tls, boolean keepOpen)
            throws Exception {
        TransportProvider provider = TransportRegistry.defaultRegistry().provider(scheme);
        TransportOptions o = options != null ? options : provider.defaultOptions();
        ListenerConfig config = tls ? ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), serverTls())
                : ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0));
        TunnelListener l = provider.newListener(runtime, config, o);
        open.add(l::close);
        return l.bind((ch, info) -> {
            if (!keepOpen) {
                ch.close();
            }
        }).sync().getNow();
    }

    private static dev.tunnelwire.TlsServerOptions serverTls() {
        dev.tunnelwire.testkit.TestPki pki = dev.tunnelwire.testkit.TestPki.get();
        return dev.tunnelwire.TlsServerOptions.builder().keyAndChain(pki.serverKey(), pki.serverCertChain()).build();
    }

    private InetSocketAddress proxy(Handler handler) throws Exception {
        Service s = Service.of(handler.protocol(), new TcpTransportProvider().newListener(runtime,
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), TcpOptions.defaults()),
                handler, Chain.direct(runtime), ServiceOptions.defaults());
        open.add(s::close);
        return s.bind().sync().getNow();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Every listener with a handshake, with its defaults (the timeouts under test are the defaults). */
    List<Target> targets() throws Exception {
        byte[] get = ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(64));
        List<Target> t = new ArrayList<>();
        t.add(new Target("ws", listen("ws", null, false), false, get));
        t.add(new Target("httpupgrade", listen("httpupgrade", null, false), false, get));
        t.add(new Target("v2rayhttp (HTTP/1.1)", listen("v2rayhttp", null, false), false, get));
        t.add(new Target("pht", listen("pht", null, false), false, get));
        t.add(new Target("grpc (h2c)", listen("grpc", null, false), false, H2_PREFACE));
        t.add(new Target("h2c", listen("h2c", null, false), false, H2_PREFACE));
        t.add(new Target("v2rayhttp (h2c)", listen("v2rayhttp", null, false), false, H2_PREFACE));
        t.add(new Target("grpc (TLS)", listen("grpc", null, true), true, new byte[0]));
        t.add(new Target("http2 proxy (TLS)", listen("http2", null, true), true, new byte[0]));
        t.add(new Target("wss (TLS)", listen("ws", null, true), true, new byte[0]));
        t.add(new Target("http proxy", proxy(new HttpHandler(HttpHandlerOptions.defaults())), false,
                ascii("CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nX-Slow: " + "a".repeat(64))));
        t.add(new Target("socks5", proxy(new Socks5Handler(Socks5HandlerOptions.defaults())), false,
                new byte[] {5, 2, 0, 2, 1, 9, 't', 'w', '-', 'u', 's', 'e', 'r'}));
        return t;
    }

    // ---------------------------------------------------------------- slowloris and junk

    /** Result of one connection: seconds until the server closed it, or infinity when it still held it. */
    private double untilClosed(InetSocketAddress a, Supplier<byte[]> first, byte[] trickle, long deadline) {
        long t0 = System.nanoTime();
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] b = first.get();
            if (b.length > 0) {
                out.write(b);
                out.flush();
            }
            int i = 0;
            byte[] buf = new byte[4096];
            while ((System.nanoTime() - t0) / 1_000_000 < deadline) {
                try {
                    if (in.read(buf) < 0) {
                        break;
                    }
                } catch (SocketTimeoutException e) {
                    if (i < trickle.length) {
                        out.write(trickle[i++]);
                        out.flush();
                    }
                }
            }
            if ((System.nanoTime() - t0) / 1_000_000 >= deadline) {
                return Double.POSITIVE_INFINITY;
            }
        } catch (IOException e) {
            // reset or broken pipe: the server closed it
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** {@link #CONNECTIONS} connections per target at once, each trickling its handshake a byte a second. */
    List<HostileReport.Probe> slowloris(List<Target> targets) throws Exception {
        return perTarget("slowloris", targets, t -> untilClosed(t.address(), () -> new byte[0], t.handshake(),
                DEADLINE_MILLIS));
    }

    /** {@link #CONNECTIONS} connections per target at once, each sending 4 KiB of random bytes. */
    List<HostileReport.Probe> junk(List<Target> targets) throws Exception {
        SecureRandom rnd = new SecureRandom();
        return perTarget("junk", targets, t -> untilClosed(t.address(), () -> {
            byte[] b = new byte[4096];
            rnd.nextBytes(b);
            return b;
        }, new byte[0], DEADLINE_MILLIS));
    }

    private interface PerConnection {
        double run(Target t) throws Exception;
    }

    private List<HostileReport.Probe> perTarget(String probe, List<Target> targets, PerConnection c)
            throws Exception {
        Map<Target, List<Future<Double>>> runs = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        try (HostileLogCapture log = HostileLogCapture.start()) {
            for (Target t : targets) {
                List<Future<Double>> fs = new ArrayList<>();
                for (int i = 0; i < CONNECTIONS; i++) {
                    fs.add(pool.submit(() -> c.run(t)));
                }
                runs.put(t, fs);
            }
            List<HostileReport.Probe> rows = new ArrayList<>();
            for (Map.Entry<Target, List<Future<Double>>> e : runs.entrySet()) {
                int held = 0;
                double worst = 0;
                for (Future<Double> f : e.getValue()) {
                    double secs = f.get(DEADLINE_MILLIS + 30_000, TimeUnit.MILLISECONDS);
                    if (Double.isInfinite(secs)) {
                        held++;
                    } else {
                        worst = Math.max(worst, secs);
                    }
                }
                rows.add(new HostileReport.Probe(probe, e.getKey().name(), CONNECTIONS, held, worst, -1, ""));
            }
            HostileLogCapture.Counts counts = log.counts();
            rows.add(new HostileReport.Probe(probe, "(all listeners: log)", CONNECTIONS * targets.size(), 0,
                    (System.nanoTime() - t0) / 1e9, -1, counts.describe()));
            return rows;
        }
    }

    // ---------------------------------------------------------------- oversize ws frame

    /** A ws upgrade, then a binary frame declaring 1 GiB, then up to 64 MiB of its payload. */
    HostileReport.Probe oversizeWsFrame() throws Exception {
        InetSocketAddress a = listen("ws", null, false);
        long before = nettyMemory();
        long peak = before;
        long sent = 0;
        long t0 = System.nanoTime();
        boolean closed = false;
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            byte[] key = new byte[16];
            new SecureRandom().nextBytes(key);
            out.write(ascii("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key)
                    + "\r\nSec-WebSocket-Version: 13\r\n\r\n"));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("no 101: " + head.toString(StandardCharsets.ISO_8859_1));
                }
                head.write(c);
            }
            // FIN + binary, masked, 64-bit length 1 GiB, mask key
            out.write(new byte[] {(byte) 0x82, (byte) 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4});
            byte[] chunk = new byte[64 * 1024];
            try {
                while (sent < 64L * 1024 * 1024) {
                    out.write(chunk);
                    sent += chunk.length;
                    peak = Math.max(peak, nettyMemory());
                }
                out.flush();
            } catch (IOException e) {
                closed = true;
            }
            if (!closed) {
                s.setSoTimeout(5000);
                try {
                    while (in.read(chunk) >= 0) {
                        peak = Math.max(peak, nettyMemory());
                    }
                    closed = true;
                } catch (SocketTimeoutException e) {
                    closed = false;
                } catch (IOException e) {
                    closed = true;
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        return new HostileReport.Probe("oversize ws frame", "ws", 1, closed ? 0 : 1, secs,
                Math.max(0, peak - before), "declared 1 GiB; " + (sent >> 20) + " MiB written before the close");
    }

    /**
     * Bytes Netty holds: the default allocator's direct and heap use plus Netty's own direct-memory counter (which may
     * count the same memory twice: an upper bound).
     */
    private static long nettyMemory() {
        long used = 0;
        if (io.netty.buffer.ByteBufAllocator.DEFAULT instanceof io.netty.buffer.ByteBufAllocatorMetricProvider m) {
            used += m.metric().usedDirectMemory() + m.metric().usedHeapMemory();
        }
        return used + Math.max(0, PlatformDependent.usedDirectMemory());
    }

    // ---------------------------------------------------------------- HTTP/2

    /** HEADERS then WINDOW_UPDATE(0) per stream, repeatedly: the server must cut the connection off. */
    HostileReport.Probe madeYouReset(String scheme) throws Exception {
        // the tunnels stay open, so each stream error is the server's own reset
        InetSocketAddress a = listen(scheme, null, false, true);
        Http2Headers headers = scheme.equals("grpc")
                ? new DefaultHttp2Headers().method("POST").scheme("http").path(GrpcOptions.defaults().clientPath())
                .authority("127.0.0.1").set("content-type", "application/grpc").set("te", "trailers")
                : new DefaultHttp2Headers().method("CONNECT").authority("127.0.0.1:9");
        int attempts = H2Codecs.MAX_RST_FRAMES_PER_WINDOW * 5;
        long t0 = System.nanoTime();
        int resets = 0;
        long goAway = -1;
        try (Socket s = new Socket(a.getAddress(), a.getPort())) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            Future<long[]> reader = pool.submit(() -> {
                long r = 0;
                long code = -1;
                try {
                    for (byte[] f; (f = readFrame(in)) != null; ) {
                        if (f[3] == 3) {
                            r++;
                        } else if (f[3] == 7) {
                            code = (f[13] & 0xFFL) << 24 | (f[14] & 0xFF) << 16 | (f[15] & 0xFF) << 8 | f[16] & 0xFF;
                        }
                    }
                } catch (IOException e) {
                    // reset after GOAWAY
                }
                return new long[] {r, code};
            });
            OutputStream out = s.getOutputStream();
            DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
            try {
                out.write(H2_PREFACE);
                out.write(H2.frame(4, 0, 0, new byte[0]));
                for (int i = 0; i < attempts; i++) {
                    ByteBuf block = Unpooled.buffer();
                    try {
                        encoder.encodeHeaders(1 + 2 * i, headers, block);
                        byte[] b = new byte[block.readableBytes()];
                        block.readBytes(b);
                        out.write(H2.frame(1, 4, 1 + 2 * i, b));
                    } finally {
                        block.release();
                    }
                    out.write(H2.frame(8, 0, 1 + 2 * i, new byte[4]));
                }
                out.flush();
            } catch (IOException e) {
                // cut off while writing
            }
            long[] r = reader.get(20, TimeUnit.SECONDS);
            resets = (int) r[0];
            goAway = r[1];
        }
        return new HostileReport.Probe("made you reset", scheme, 1, 0, (System.nanoTime() - t0) / 1e9, -1,
                attempts + " streams attempted, " + resets + " reset before GOAWAY(" + goAway + ")");
    }

    /** Preface and SETTINGS, then nothing: closed by the idle-connection timeout (configured short here). */
    HostileReport.Probe idleHttp2(String scheme, Duration idle) throws Exception {
        H2Settings h2 = H2Settings.builder().serverIdleTimeout(idle).build();
        TransportOptions o = scheme.equals("grpc") ? GrpcOptions.builder().h2(h2).build()
                : H2TunnelOptions.builder().h2(h2).build();
        InetSocketAddress a = listen(scheme, o, false);
        double secs = untilClosed(a, () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(H2_PREFACE);
            b.writeBytes(H2.frame(4, 0, 0, new byte[0]));
            return b.toByteArray();
        }, new byte[0], idle.toMillis() + 20_000);
        return new HostileReport.Probe("idle HTTP/2 connection", scheme, 1, Double.isInfinite(secs) ? 1 : 0,
                Double.isInfinite(secs) ? -1 : secs, -1, "serverIdleTimeout " + idle.toMillis() + " ms (default "
                + H2Settings.DEFAULT_SERVER_IDLE_TIMEOUT_SECONDS + " s)");
    }

    /** One frame: the 9-byte header followed by the payload, or {@code null} at the end of the stream. */
    private static byte[] readFrame(DataInputStream in) throws IOException {
        byte[] h = new byte[9];
        try {
            in.readFully(h);
        } catch (EOFException e) {
            return null;
        }
        int len = (h[0] & 0xFF) << 16 | (h[1] & 0xFF) << 8 | h[2] & 0xFF;
        byte[] f = new byte[9 + len];
        System.arraycopy(h, 0, f, 0, 9);
        in.readFully(f, 9, len);
        return f;
    }

    // ---------------------------------------------------------------- plain proxy

    /** {@link #PLAIN_GETS} plain GETs through the HTTP proxy, one connection each, closed after the response. */
    HostileReport.Probe plainProxyFds() throws Exception {
        HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        target.createContext("/", ex -> {
            byte[] body = ascii("hi");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        target.start();
        try {
            InetSocketAddress proxy = proxy(new HttpHandler(HttpHandlerOptions.defaults()));
            int port = target.getAddress().getPort();
            // warm up (classes, pools), then the baseline
            get(proxy, port);
            Thread.sleep(500);
            int baseline = openFds();
            long t0 = System.nanoTime();
            int ok = 0;
            for (int i = 0; i < PLAIN_GETS; i++) {
                if (get(proxy, port).startsWith("HTTP/1.1 200")) {
                    ok++;
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            int after = openFds();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (after > baseline + FD_NOISE && System.nanoTime() < deadline) {
                Thread.sleep(100);
                after = openFds();
            }
            // "held": descriptors above the baseline beyond what the rest of this JVM may open meanwhile (the matrix's
            // peer runtime and Docker client share it); a leak here is one per request, i.e. hundreds
            return new HostileReport.Probe("plain-proxy fds", "http proxy", PLAIN_GETS,
                    Math.max(0, after - baseline - FD_NOISE),
                    secs, -1, ok + " of " + PLAIN_GETS + " answered 200; fds " + baseline + " before, " + after
                    + " after");
        } finally {
            target.stop(0);
        }
    }

    private static String get(InetSocketAddress proxy, int port) throws IOException {
        try (Socket s = new Socket(proxy.getAddress(), proxy.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ascii("GET http://127.0.0.1:" + port + "/ HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\n\r\n"));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[1024];
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
                String text = got.toString(StandardCharsets.ISO_8859_1);
                int head = text.indexOf("\r\n\r\n");
                if (head >= 0 && text.length() >= head + 4 + 2) {
                    break;
                }
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    static int openFds() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    @Override
    public void close() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // best effort
            }
        }
        pool.shutdownNow();
        runtime.close();
    }
}
