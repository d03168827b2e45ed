package dev.tunnelwire.internal.h2;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The frame/byte translation of {@link H2StreamAdapter}, on an {@link EmbeddedChannel} standing in for a stream. */
class H2StreamAdapterTest {

    private final List<Object> events = new ArrayList<>();
    private EmbeddedChannel ch;

    @AfterEach
    void finish() {
        ch.finishAndReleaseAll();
    }

    private EmbeddedChannel channel() {
        ch = new EmbeddedChannel(H2StreamAdapter.forClient(), new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                events.add(evt);
            }
        });
        return ch;
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void dataFramesBecomeBytesAndEndStreamAHalfClose() {
        channel();
        ch.writeInbound(new DefaultHttp2DataFrame(ascii("abc")), new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER),
                new DefaultHttp2DataFrame(ascii("de"), true));
        ByteBuf a = ch.readInbound();
        ByteBuf b = ch.readInbound();
        assertEquals("abc", a.toString(StandardCharsets.US_ASCII));
        assertEquals("de", b.toString(StandardCharsets.US_ASCII));
        a.release();
        b.release();
        assertNull(ch.readInbound(), "empty DATA is not delivered");
        assertEquals(List.of(ChannelInputShutdownEvent.INSTANCE), events);
    }

    @Test
    void trailersEndTheInputAndResetsAreSwallowed() {
        channel();
        ch.pipeline().fireUserEventTriggered(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
        ch.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(), true));
        assertEquals(List.of(ChannelInputShutdownEvent.INSTANCE), events);
    }

    @Test
    void bytesBecomeDataFramesAndShutdownOutputAnEmptyEndStream() {
        channel();
        ch.writeOutbound(ascii("up"));
        ch.writeAndFlush(Tunnels.SHUTDOWN_OUTPUT);
        Http2DataFrame d = ch.readOutbound();
        assertEquals("up", d.content().toString(StandardCharsets.US_ASCII));
        assertFalse(d.isEndStream());
        d.release();
        Http2DataFrame end = ch.readOutbound();
        assertTrue(end.isEndStream());
        assertEquals(0, end.content().readableBytes());
        end.release();
        ChannelFuture after = ch.writeAndFlush(ascii("late"));
        assertInstanceOf(ClosedChannelException.class, after.cause(), "no writes after the half-close");
        assertTrue(ch.writeAndFlush(Tunnels.SHUTDOWN_OUTPUT).isSuccess(), "a second shutdown is a no-op");
        assertNull(ch.readOutbound());
    }

    @Test
    void emptyBuffersAreNotSentButCompleteInOrder() {
        channel();
        ChannelFuture empty = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        assertTrue(empty.isSuccess());
        assertNull(ch.readOutbound(), "no empty DATA frame on the wire");
        ch.writeOutbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()));
        Object headers = ch.readOutbound();
        assertSame(DefaultHttp2HeadersFrame.class, headers.getClass(), "other frames pass through");
    }
}
