package dev.tunnelwire.internal.h2;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.transport.h2tunnel.H2TunnelOptions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RFC 9113 errors of the shared server codec ({@link H2ServerCodec}, issue #17 "h2spec in the build"), from a raw
 * socket against an h2c tunnel listener whose application echoes and ends its half when the client ends its own.
 * h2spec ({@code H2specIT} in interop-docker) checks the same and more against every listener.
 */
class H2ServerErrorsTest {

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADERS = 1;
    private static final int RST_STREAM = 3;
    private static final int SETTINGS = 4;
    private static final int GOAWAY = 7;
    private static final int END_STREAM = 1;
    private static final int END_HEADERS = 4;

    private final TunnelRuntime runtime = TunnelRuntime.create(1);
    private TunnelListener listener;
    private InetSocketAddress addr;
    private final DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();

    @BeforeEach
    void setUp() throws Exception {
        TransportProvider provider = TransportRegistry.defaultRegistry().provider("h2c");
        @SuppressWarnings({"unchecked", "rawtypes"})
        TunnelListener l = ((TransportProvider) provider).newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), H2TunnelOptions.builder().path("/").build());
        listener = l;
        addr = l.bind((ch, info) -> ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof ChannelInputShutdownEvent) {
                    Tunnels.shutdownOutput(ctx.channel());
                }
                ctx.fireUserEventTriggered(evt);
            }
        })).sync().getNow();
    }

    @AfterEach
    void tearDown() {
        listener.close();
        runtime.close();
    }

    private static Http2Headers get() {
        return new DefaultHttp2Headers().method("GET").scheme("http").path("/").authority("127.0.0.1");
    }

    private byte[] headers(int stream, Http2Headers h, int flags) throws Exception {
        ByteBuf block = Unpooled.buffer();
        try {
            hpack.encodeHeaders(stream, h, block);
            byte[] b = new byte[block.readableBytes()];
            block.readBytes(b);
            return frame(HEADERS, flags, stream, b);
        } finally {
            block.release();
        }
    }

    /** Sends the preface, SETTINGS and {@code frames}; returns what the server sent until it closed or went quiet. */
    private List<Frame> exchange(byte[]... frames) throws Exception {
        List<Frame> got = new ArrayList<>();
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(1_500);
            OutputStream out = s.getOutputStream();
            out.write(PREFACE);
            out.write(frame(SETTINGS, 0, 0, new byte[0]));
            for (byte[] f : frames) {
                out.write(f);
                out.flush();
                Thread.sleep(100); // one frame at a time, as h2spec: the server answers in between
            }
            DataInputStream in = new DataInputStream(s.getInputStream());
            try {
                for (Frame f; (f = Frame.read(in)) != null; ) {
                    got.add(f);
                }
            } catch (SocketTimeoutException | SocketException e) {
                // quiet, or reset after a GOAWAY
            }
        }
        return got;
    }

    private static long code(List<Frame> frames, int type) {
        return frames.stream().filter(f -> f.type == type).mapToLong(Frame::errorCode).findFirst().orElse(-1);
    }

    @Test
    void aRequestWithoutPathIsResetWithProtocolError() throws Exception {
        Http2Headers h = new DefaultHttp2Headers().method("GET").scheme("http").authority("127.0.0.1");
        List<Frame> got = exchange(headers(1, h, END_HEADERS | END_STREAM));
        assertEquals(Http2Error.PROTOCOL_ERROR.code(), code(got, RST_STREAM), "RST_STREAM code in " + got);
        assertTrue(got.stream().noneMatch(f -> f.type == HEADERS), "answered: " + got);
    }

    @Test
    void aConnectWithOnlyMethodAndAuthorityIsAccepted() throws Exception {
        // gost's CONNECT: legal without :scheme and :path (RFC 9113 8.5); this listener wants path "/", so 400
        Http2Headers h = new DefaultHttp2Headers().method("CONNECT").authority("127.0.0.1:9");
        List<Frame> got = exchange(headers(1, h, END_HEADERS | END_STREAM));
        assertTrue(got.stream().anyMatch(f -> f.type == HEADERS && f.stream == 1), "no response in " + got);
        assertEquals(-1, code(got, RST_STREAM), "reset: " + got);
    }

    @Test
    void aSkippedStreamIdIsAConnectionError() throws Exception {
        List<Frame> got = exchange(headers(5, get(), END_HEADERS | END_STREAM),
                headers(3, get(), END_HEADERS | END_STREAM));
        assertEquals(Http2Error.PROTOCOL_ERROR.code(), code(got, GOAWAY), "GOAWAY code in " + got);
    }

    @Test
    void headersOnAStreamThatEndedIsAConnectionError() throws Exception {
        List<Frame> got = exchange(headers(1, get(), END_HEADERS | END_STREAM),
                headers(1, get(), END_HEADERS | END_STREAM));
        assertEquals(Http2Error.STREAM_CLOSED.code(), code(got, GOAWAY), "GOAWAY code in " + got);
    }

    @Test
    void headersOnAHalfClosedStreamIsResetWithStreamClosed() throws Exception {
        // both HEADERS in one write: the second arrives while the stream is half-closed (remote)
        byte[] first = headers(1, get(), END_HEADERS | END_STREAM);
        byte[] second = headers(1, get(), END_HEADERS | END_STREAM);
        byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        List<Frame> got = exchange(both);
        assertEquals(Http2Error.STREAM_CLOSED.code(), code(got, RST_STREAM), "RST_STREAM code in " + got);
    }

    @Test
    void aContentLengthMismatchIsResetWithProtocolError() throws Exception {
        Http2Headers h = get().method("POST").setInt("content-length", 1);
        byte[] head = headers(1, h, END_HEADERS);
        byte[] data = frame(0, END_STREAM, 1, "test".getBytes(StandardCharsets.US_ASCII));
        byte[] both = new byte[head.length + data.length];
        System.arraycopy(head, 0, both, 0, head.length);
        System.arraycopy(data, 0, both, head.length, data.length);
        List<Frame> got = exchange(both);
        assertEquals(Http2Error.PROTOCOL_ERROR.code(), code(got, RST_STREAM), "RST_STREAM code in " + got);
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

        long errorCode() {
            int off = type == GOAWAY ? 4 : 0;
            return (payload[off] & 0xFFL) << 24 | (payload[off + 1] & 0xFF) << 16 | (payload[off + 2] & 0xFF) << 8
                    | payload[off + 3] & 0xFF;
        }

        @Override
        public String toString() {
            return "frame(type " + type + ", flags " + flags + ", stream " + stream + ", " + payload.length + " B)";
        }
    }
}
