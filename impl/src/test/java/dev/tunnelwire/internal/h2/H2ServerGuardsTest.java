package dev.tunnelwire.internal.h2;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.h2tunnel.H2TunnelOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.http2.Http2ProxyOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guards every HTTP/2 listener has (issue #17, items 3 and 4), seen from a raw socket: the client preface must
 * come within the preface timeout, a connection without streams is closed after the idle timeout, and a client that
 * makes the server reset stream after stream ("made you reset", CVE-2025-8671: HEADERS then an invalid WINDOW_UPDATE)
 * is cut off with GOAWAY(ENHANCE_YOUR_CALM).
 */
class H2ServerGuardsTest {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final H2Settings FAST = H2Settings.builder().prefaceTimeout(Duration.ofMillis(300))
            .serverIdleTimeout(Duration.ofMillis(500)).build();

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<TunnelListener> listeners = new ArrayList<>();

    @AfterEach
    void tearDown() {
        listeners.forEach(TunnelListener::close);
        runtime.close();
    }

    private InetSocketAddress listen(String scheme, H2Settings h2) throws Exception {
        TransportProvider provider = TransportRegistry.defaultRegistry().provider(scheme);
        TransportOptions options = switch (scheme) {
            case "grpc" -> GrpcOptions.builder().h2(h2).build();
            case "h2c" -> H2TunnelOptions.builder().h2(h2).build();
            case "v2rayhttp" -> HttpOptions.builder().h2(h2).build();
            case "http2" -> new Http2ProxyOptions(h2);
            default -> throw new IllegalArgumentException(scheme);
        };
        ListenerConfig config = scheme.equals("http2")
                ? ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), ApiHarness.serverTls())
                : ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0));
        @SuppressWarnings({"unchecked", "rawtypes"})
        TunnelListener l = ((TransportProvider) provider).newListener(runtime, config, options);
        listeners.add(l);
        // accepted tunnels are left open: their streams stay open on the server
        return l.bind((ch, info) -> { }).sync().getNow();
    }

    /** Seconds until the server ends the connection (EOF or reset), reading and discarding whatever it sends. */
    private static double secondsUntilClosed(Socket s, long limitMillis) throws IOException {
        long t0 = System.nanoTime();
        s.setSoTimeout((int) limitMillis);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (SocketException e) {
            // reset: closed as well
        } catch (java.net.SocketTimeoutException e) {
            return Double.POSITIVE_INFINITY;
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    @ParameterizedTest
    @ValueSource(strings = {"grpc", "h2c", "v2rayhttp", "http2"})
    void aConnectionWithoutItsPrefaceIsClosedByThePrefaceTimeout(String scheme) throws Exception {
        InetSocketAddress addr = listen(scheme, FAST);
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            if (!scheme.equals("http2")) {
                // the magic alone (v2rayhttp sniffs it to choose HTTP/2), never the SETTINGS that complete the preface
                s.getOutputStream().write(PREFACE);
                s.getOutputStream().flush();
            }
            double secs = secondsUntilClosed(s, 5_000);
            assertTrue(secs < 3, scheme + ": still open after the preface timeout (" + secs + " s)");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"grpc", "h2c", "v2rayhttp"})
    void aConnectionWithoutStreamsIsClosedByTheIdleTimeout(String scheme) throws Exception {
        InetSocketAddress addr = listen(scheme, FAST);
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write(PREFACE);
            out.write(frame(4, 0, 0, new byte[0]));
            out.flush();
            s.setSoTimeout(5_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            long t0 = System.nanoTime();
            Frame goAway = null;
            long connectionWindow = 65_535;
            try {
                for (Frame f; (f = Frame.read(in)) != null; ) {
                    if (f.type == 8 && f.stream == 0) {
                        connectionWindow += f.errorCode(); // the increment sits where an error code would
                    }
                    if (f.type == 4 && (f.flags & 1) == 0) {
                        out.write(frame(4, 1, 0, new byte[0]));
                        out.flush();
                    }
                    if (f.type == 7) {
                        goAway = f;
                    }
                }
            } catch (SocketException e) {
                // reset after the GOAWAY
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(goAway != null, scheme + ": no GOAWAY before the close");
            assertEquals(Http2Error.NO_ERROR.code(), goAway.errorCode(), scheme);
            assertTrue(secs < 4, scheme + ": idle connection closed only after " + secs + " s");
            assertEquals(FAST.connectionWindow(), connectionWindow, scheme + ": the connection window we announce");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"grpc", "h2c", "v2rayhttp"})
    void madeYouResetIsCutOffWithEnhanceYourCalm(String scheme) throws Exception {
        InetSocketAddress addr = listen(scheme, H2Settings.defaults());
        Http2Headers headers = switch (scheme) {
            case "grpc" -> new DefaultHttp2Headers().method("POST").scheme("http")
                    .path(GrpcOptions.defaults().clientPath()).authority("127.0.0.1")
                    .set("content-type", "application/grpc").set("te", "trailers");
            case "h2c" -> new DefaultHttp2Headers().method("CONNECT").authority("127.0.0.1:9");
            default -> new DefaultHttp2Headers().method("PUT").scheme("http").path("/").authority("127.0.0.1");
        };
        int attempts = H2Codecs.MAX_RST_FRAMES_PER_WINDOW * 3;
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            CompletableFuture<int[]> seen = CompletableFuture.supplyAsync(() -> {
                int resets = 0;
                long goAwayCode = -1;
                try {
                    for (Frame f; (f = Frame.read(in)) != null; ) {
                        if (f.type == 3) {
                            resets++;
                        } else if (f.type == 7) {
                            goAwayCode = f.errorCode();
                        }
                    }
                } catch (IOException e) {
                    // reset by the server after its GOAWAY
                }
                return new int[] {resets, (int) goAwayCode};
            });
            OutputStream out = s.getOutputStream();
            out.write(PREFACE);
            out.write(frame(4, 0, 0, new byte[0]));
            DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
            try {
                for (int i = 0; i < attempts; i++) {
                    int stream = 1 + 2 * i;
                    ByteBuf block = Unpooled.buffer();
                    try {
                        encoder.encodeHeaders(stream, headers, block);
                        byte[] b = new byte[block.readableBytes()];
                        block.readBytes(b);
                        out.write(frame(1, 4, stream, b)); // HEADERS, END_HEADERS, stream open
                    } finally {
                        block.release();
                    }
                    out.write(frame(8, 0, stream, new byte[4])); // WINDOW_UPDATE with increment 0: a stream error
                    out.flush();
                }
            } catch (SocketException e) {
                // the server closed the connection while we were still writing: that is the point
            }
            int[] r = seen.get(15, TimeUnit.SECONDS);
            assertTrue(r[0] <= H2Codecs.MAX_RST_FRAMES_PER_WINDOW + 1,
                    scheme + ": the server reset " + r[0] + " of " + attempts + " streams");
            assertEquals(Http2Error.ENHANCE_YOUR_CALM.code(), r[1], scheme + ": GOAWAY code (-1 = none)");
        }
    }

    private static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (stream >>> 24);
        f[6] = (byte) (stream >>> 16);
        f[7] = (byte) (stream >>> 8);
        f[8] = (byte) stream;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    private record Frame(int type, int flags, int stream, byte[] payload) {
        static Frame read(DataInputStream in) throws IOException {
            byte[] h = new byte[9];
            try {
                in.readFully(h);
            } catch (EOFException e) {
                return null;
            }
            int len = (h[0] & 0xFF) << 16 | (h[1] & 0xFF) << 8 | h[2] & 0xFF;
            byte[] p = new byte[len];
            in.readFully(p);
            return new Frame(h[3] & 0xFF, h[4] & 0xFF, ((h[5] & 0x7F) << 24) | (h[6] & 0xFF) << 16
                    | (h[7] & 0xFF) << 8 | h[8] & 0xFF, p);
        }

        /** GOAWAY: last stream (4 bytes), then the error code; RST_STREAM: the error code. */
        long errorCode() {
            int off = type == 7 ? 4 : 0;
            return (payload[off] & 0xFFL) << 24 | (payload[off + 1] & 0xFF) << 16 | (payload[off + 2] & 0xFF) << 8
                    | payload[off + 3] & 0xFF;
        }
    }
}
