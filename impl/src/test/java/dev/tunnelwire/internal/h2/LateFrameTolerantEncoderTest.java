package dev.tunnelwire.internal.h2;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link H2Codecs#server} and {@link H2Codecs#client} against hand-written peer frames on an {@link EmbeddedChannel}:
 * DATA the peer sent before it saw our RST_STREAM is ignored (RFC 9113 §5.1) and its bytes are given back to the
 * connection window, however many frames there are. Before issue #16 was fixed each was answered with
 * RST_STREAM(STREAM_CLOSED), and on a server the 201st of those closed the connection with GOAWAY(ENHANCE_YOUR_CALM).
 */
class LateFrameTolerantEncoderTest {

    private static final int DATA = 0x0;
    private static final int HEADERS = 0x1;
    private static final int RST_STREAM = 0x3;
    private static final int SETTINGS = 0x4;
    private static final int GOAWAY = 0x7;
    private static final int WINDOW_UPDATE = 0x8;
    private static final int END_STREAM = 0x1;
    private static final int END_HEADERS = 0x4;
    /** HPACK, static table only: {@code :method POST}, {@code :scheme http}, {@code :path /}. */
    private static final byte[] POST_REQUEST = {(byte) 0x83, (byte) 0x86, (byte) 0x84};

    private final Map<Integer, Http2FrameStream> streams = new HashMap<>();
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    private void startServer() {
        ch = new EmbeddedChannel(H2Codecs.server(H2Settings.defaults()), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof Http2HeadersFrame h) {
                    streams.put(h.stream().id(), h.stream());
                }
                ReferenceCountUtil.release(msg);
            }
        });
        ByteBuf in = Unpooled.buffer();
        in.writeCharSequence("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", StandardCharsets.US_ASCII);
        frame(in, SETTINGS, 0, 0, new byte[0]);
        ch.writeInbound(in);
        outbound();
    }

    @Test
    void dataInFlightAfterOurResetIsIgnoredAndGivenBackToTheConnectionWindow() {
        startServer();
        request(1, false);
        ch.writeOutbound(new DefaultHttp2ResetFrame(Http2Error.CANCEL).stream(streams.get(1)));
        assertEquals(1, count(outbound(), RST_STREAM, 1, Http2Error.CANCEL), "our RST_STREAM(CANCEL)");

        // More than half the connection window, so that giving the bytes back shows as a WINDOW_UPDATE.
        int frames = 2 * H2Codecs.MAX_RST_FRAMES_PER_WINDOW;
        ByteBuf late = Unpooled.buffer();
        for (int i = 0; i < frames; i++) {
            frame(late, DATA, 0, 1, new byte[H2Settings.DEFAULT_MAX_FRAME_SIZE]);
        }
        ch.writeInbound(late);
        List<int[]> out = outbound();

        assertEquals(0, count(out, RST_STREAM, 1, Http2Error.STREAM_CLOSED), "late DATA is not answered");
        assertEquals(0, count(out, GOAWAY, 0, null), "the connection is not cut off");
        assertTrue(ch.isActive());
        Http2Connection connection = ch.pipeline().get(Http2FrameCodec.class).connection();
        assertEquals(0, connection.local().flowController().unconsumedBytes(connection.connectionStream()),
                "late bytes count towards the connection window and are given back at once");
        assertTrue(count(out, WINDOW_UPDATE, 0, null) > 0, "connection WINDOW_UPDATE");

        // New streams still work.
        request(3, false);
        assertNotNull(streams.get(3));
    }

    /** DATA after the client's own END_STREAM is a peer error: answered, and counted by Netty's limit as before. */
    @Test
    void dataOnAStreamWeDidNotResetIsAnsweredAndCounted() {
        startServer();
        request(1, true);
        ch.writeOutbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true)
                .stream(streams.get(1)));
        outbound();
        ByteBuf one = Unpooled.buffer();
        frame(one, DATA, 0, 1, new byte[16]);
        ch.writeInbound(one);
        assertEquals(1, count(outbound(), RST_STREAM, 1, Http2Error.STREAM_CLOSED), "answered with RST_STREAM");

        ByteBuf many = Unpooled.buffer();
        for (int i = 0; i < H2Codecs.MAX_RST_FRAMES_PER_WINDOW; i++) {
            frame(many, DATA, 0, 1, new byte[16]);
        }
        ch.writeInbound(many);
        List<int[]> out = outbound();
        assertEquals(1, count(out, GOAWAY, 0, Http2Error.ENHANCE_YOUR_CALM), "the provoked-reset limit still holds");
        assertFalse(ch.isActive());
    }

    @Test
    void clientIgnoresDataInFlightAfterItsReset() {
        ch = new EmbeddedChannel(H2Codecs.client(H2Settings.defaults()),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        ByteBuf settings = Unpooled.buffer();
        frame(settings, SETTINGS, 0, 0, new byte[0]);
        ch.writeInbound(settings);
        drain(); // our preface, SETTINGS and the SETTINGS ack
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(ch).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg);
            }
        }).open().syncUninterruptibly().getNow();
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST").scheme("http")
                .path("/").authority("x"), false));
        stream.close(); // RST_STREAM(CANCEL): the peer's side is open
        ch.runPendingTasks();
        int id = stream.stream().id();
        assertEquals(1, count(outbound(), RST_STREAM, id, Http2Error.CANCEL), "our RST_STREAM(CANCEL)");

        ByteBuf late = Unpooled.buffer();
        for (int i = 0; i < 2 * H2Codecs.MAX_RST_FRAMES_PER_WINDOW; i++) {
            frame(late, DATA, 0, id, new byte[1024]);
        }
        ch.writeInbound(late);
        List<int[]> out = outbound();
        assertEquals(0, count(out, RST_STREAM, id, Http2Error.STREAM_CLOSED), "late DATA is not answered");
        assertTrue(ch.isActive());
    }

    private void request(int streamId, boolean endStream) {
        ByteBuf in = Unpooled.buffer();
        frame(in, HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, POST_REQUEST);
        ch.writeInbound(in);
        outbound();
    }

    private void drain() {
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ReferenceCountUtil.release(o);
        }
    }

    private static void frame(ByteBuf out, int type, int flags, int streamId, byte[] payload) {
        out.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(streamId).writeBytes(payload);
    }

    /** Reads (and releases) the frames written so far, each as {type, stream id, error code or increment}. */
    private List<int[]> outbound() {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        List<int[]> frames = new ArrayList<>();
        while (all.readableBytes() >= 9) {
            int length = all.readUnsignedMedium();
            int type = all.readUnsignedByte();
            all.skipBytes(1);
            int stream = all.readInt() & Integer.MAX_VALUE;
            int at = all.readerIndex() + (type == GOAWAY ? 4 : 0); // GOAWAY: last stream id, then the error code
            int first = length >= at - all.readerIndex() + 4 ? all.getInt(at) & Integer.MAX_VALUE : 0;
            all.skipBytes(length);
            frames.add(new int[] {type, stream, first});
        }
        all.release();
        return frames;
    }

    private static long count(List<int[]> frames, int type, int stream, Http2Error error) {
        return frames.stream().filter(f -> f[0] == type && (type == GOAWAY || f[1] == stream)
                && (error == null || f[2] == error.code())).count();
    }
}
