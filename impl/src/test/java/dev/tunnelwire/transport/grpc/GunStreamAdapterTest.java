package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stream adapter with the gun codec, on EmbeddedChannel, for both roles. */
class GunStreamAdapterTest {

    private EmbeddedChannel ch;
    private final Recorder recorder = new Recorder();

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private EmbeddedChannel stream(boolean client, GrpcProtocol.MessageKind kind) {
        ch = new EmbeddedChannel(new GunStreamAdapter(client), new GunFrameDecoder(kind, 1 << 20),
                new GunFrameEncoder(32768), recorder);
        return ch;
    }

    private static Http2DataFrame data(String hex, boolean end) {
        return new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex)), end);
    }

    private static Http2HeadersFrame headers(boolean end, String... kv) {
        DefaultHttp2Headers h = new DefaultHttp2Headers();
        for (int i = 0; i < kv.length; i += 2) {
            h.add(kv[i], kv[i + 1]);
        }
        return new DefaultHttp2HeadersFrame(h, end);
    }

    @Test
    void clientReceivesSplitAndCoalescedMessagesThenTrailers() {
        stream(true, GrpcProtocol.MessageKind.MULTI_HUNK);
        ch.writeInbound(headers(false, ":status", "200", "content-type", "application/grpc"));
        ch.writeInbound(data("00000000070a056865", false));
        ch.writeInbound(data("6c6c6f00000000090a0261620a03636465", false));
        ch.writeInbound(headers(true, "grpc-status", "0"));
        assertEquals("hello|ab|cde", recorder.text());
        assertTrue(recorder.inputShutdown);
        assertNull(recorder.error);
        assertTrue(ch.isOpen());
    }

    @Test
    void clientAcceptsAResponseEndingWithoutTrailers() {
        // sing-box lite: HEADERS arrive with the first DATA, the end is an empty DATA with END_STREAM.
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(headers(false, ":status", "200", "content-type", "application/grpc", "te", "trailers"));
        ch.writeInbound(data("00000000070a0568656c6c6f", false));
        ch.writeInbound(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true));
        assertEquals("hello", recorder.text());
        assertTrue(recorder.inputShutdown);
        assertNull(recorder.error);
    }

    @Test
    void clientFailsOnTrailersOnlyUnimplemented() {
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(headers(true, ":status", "200", "content-type", "application/grpc", "grpc-status", "12",
                "grpc-message", "unknown service wrong%21"));
        GrpcStatusException e = assertInstanceOf(GrpcStatusException.class, recorder.error);
        assertEquals(12, e.grpcStatus());
        assertEquals(200, e.httpStatus());
        assertEquals("unknown service wrong!", e.grpcMessage());
        assertFalse(ch.isOpen());
        assertFalse(recorder.inputShutdown);
    }

    @Test
    void clientSkipsInformationalResponses() {
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(headers(false, ":status", "100"));
        ch.writeInbound(headers(false, ":status", "200", "content-type", "application/grpc"));
        ch.writeInbound(data("00000000070a0568656c6c6f", false));
        assertEquals("hello", recorder.text());
        assertNull(recorder.error);
    }

    @Test
    void clientFailsOnNon200() {
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(headers(true, ":status", "404"));
        GrpcStatusException e = assertInstanceOf(GrpcStatusException.class, recorder.error);
        assertEquals(404, e.httpStatus());
        assertEquals(-1, e.grpcStatus());
        assertFalse(ch.isOpen());
    }

    @Test
    void clientFailsOnNonZeroStatusInTrailers() {
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(headers(false, ":status", "200", "content-type", "application/grpc"));
        ch.writeInbound(data("00000000070a0568656c6c6f", false));
        ch.writeInbound(headers(true, "grpc-status", "14", "grpc-message", "unavailable"));
        assertEquals("hello", recorder.text());
        assertEquals(14, assertInstanceOf(GrpcStatusException.class, recorder.error).grpcStatus());
        assertFalse(ch.isOpen());
    }

    @Test
    void clientWritesOneDataFramePerMessageAndHalfClosesWithEndStream() {
        stream(true, GrpcProtocol.MessageKind.HUNK);
        ch.writeOutbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        Http2DataFrame d = ch.readOutbound();
        assertEquals("00000000070a0568656c6c6f", ByteBufUtil.hexDump(d.content()));
        assertFalse(d.isEndStream());
        d.release();
        ch.writeOutbound(Tunnels.SHUTDOWN_OUTPUT);
        Http2DataFrame end = ch.readOutbound();
        assertTrue(end.isEndStream());
        assertEquals(0, end.content().readableBytes());
        end.release();
        assertFalse(ch.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)).isSuccess());
    }

    @Test
    void serverHalfCloseSendsTrailersWithStatusZero() {
        stream(false, GrpcProtocol.MessageKind.HUNK);
        ch.writeOutbound(Tunnels.SHUTDOWN_OUTPUT);
        Http2HeadersFrame t = ch.readOutbound();
        assertTrue(t.isEndStream());
        assertEquals("0", t.headers().get("grpc-status").toString());
        assertTrue(ch.isOpen());
        // A close after the half-close sends nothing more.
        ch.close();
        assertNull(ch.readOutbound());
    }

    @Test
    void serverCloseSendsTrailersFirst() {
        stream(false, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(data("00000000070a0568656c6c6f", false));
        assertEquals("hello", recorder.text());
        ch.close();
        Http2HeadersFrame t = ch.readOutbound();
        assertTrue(t.isEndStream());
        assertEquals("0", t.headers().get("grpc-status").toString());
    }

    @Test
    void serverSeesClientEndStreamAsInputShutdown() {
        stream(false, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(data("00000000070a0568656c6c6f", true));
        assertEquals("hello", recorder.text());
        assertTrue(recorder.inputShutdown);
        assertTrue(ch.isOpen());
    }

    @Test
    void serverEndsTheCallWithInternalOnAProtocolViolation() {
        stream(false, GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(data("01000000070a0568656c6c6f", false));
        assertInstanceOf(GunFormatException.class, recorder.error);
        Http2HeadersFrame t = ch.readOutbound();
        assertTrue(t.isEndStream());
        assertEquals("13", t.headers().get("grpc-status").toString());
        assertTrue(t.headers().get("grpc-message").toString().contains("compressed"));
        assertFalse(ch.isOpen());
    }

    @Test
    void serverResponseHeadersAreGrpc() {
        Http2HeadersFrame h = GunStreamAdapter.responseHeaders();
        assertEquals("200", h.headers().status().toString());
        assertEquals("application/grpc", h.headers().get("content-type").toString());
        assertFalse(h.isEndStream());
    }

    /** Records what the tunnel's application would see. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<String> chunks = new ArrayList<>();
        boolean inputShutdown;
        Throwable error;

        String text() {
            return String.join("|", chunks);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                chunks.add(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown = true;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            error = cause;
        }
    }
}
