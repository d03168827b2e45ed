package dev.tunnelwire.transport.grpc;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** grpc-go's ping enforcement: the third too-early PING gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings". */
class GrpcKeepalivePolicyHandlerTest {

    private static void ping(EmbeddedChannel ch) {
        ch.writeInbound(new DefaultHttp2PingFrame(1));
        ReferenceCountUtil.release(ch.readInbound());
    }

    @Test
    void tooManyPingsWithoutCallsGetGoAway() {
        EmbeddedChannel ch = new EmbeddedChannel(
                new GrpcKeepalivePolicyHandler(TimeUnit.SECONDS.toNanos(30), false));
        ping(ch);
        ping(ch);
        ping(ch);
        assertNull(ch.readOutbound());
        assertTrue(ch.isOpen());
        ping(ch);
        Http2GoAwayFrame goAway = ch.readOutbound();
        assertEquals(Http2Error.ENHANCE_YOUR_CALM.code(), goAway.errorCode());
        assertEquals("too_many_pings", goAway.content().toString(StandardCharsets.US_ASCII));
        goAway.release();
        assertFalse(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void pingsAtThePermittedIntervalAreFine() {
        EmbeddedChannel ch = new EmbeddedChannel(new GrpcKeepalivePolicyHandler(0, true));
        for (int i = 0; i < 10; i++) {
            ping(ch);
        }
        assertNull(ch.readOutbound());
        assertTrue(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void sendingDataResetsTheStrikes() {
        EmbeddedChannel ch = new EmbeddedChannel(
                new GrpcKeepalivePolicyHandler(TimeUnit.SECONDS.toNanos(30), true));
        for (int i = 0; i < 10; i++) {
            ping(ch);
            ch.writeOutbound(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {1})));
            ReferenceCountUtil.release(ch.readOutbound());
        }
        assertTrue(ch.isOpen());
        ch.finishAndReleaseAll();
    }

    @Test
    void dataStillQueuedBehindFlowControlDoesNotResetTheStrikes() {
        // grpc-go clients ping after data they received; a DATA frame that is queued, not yet written, must not
        // excuse pings (this held back every grpc-go client in the peer checks before the fix).
        List<Object> held = new ArrayList<>();
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                held.add(msg);
            }
        }, new GrpcKeepalivePolicyHandler(TimeUnit.SECONDS.toNanos(30), true));
        ch.writeOutbound(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(new byte[] {1})));
        for (int i = 0; i < 4; i++) {
            ping(ch);
        }
        assertTrue(held.stream().anyMatch(m -> m instanceof Http2GoAwayFrame), held.toString());
        held.forEach(ReferenceCountUtil::release);
        ch.finishAndReleaseAll();
    }
}
