package dev.tunnelwire.transport.http2;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AttributeKey;

import java.util.ArrayDeque;

/** What the {@code http2} handler and connector share with the transport. */
public final class Http2ProxyStreams {

    /** On a server-side stream: the request HEADERS (unanswered: the handler answers). */
    public static final AttributeKey<Http2Headers> REQUEST = AttributeKey.valueOf("dev.tunnelwire.http2.request");

    private Http2ProxyStreams() {
    }

    /**
     * On a client-side stream, after the stream adapter: holds byte writes until the request HEADERS have been
     * written (an HTTP/2 stream must begin with HEADERS), then writes them in order and removes itself.
     *
     * <p>Reference counting: held buffers are written on or released when the channel closes.
     */
    static final class HoldUntilRequest extends ChannelDuplexHandler {
        static final String NAME = "tw-http2-hold";
        private final ArrayDeque<Object[]> held = new ArrayDeque<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof Http2HeadersFrame) {
                ctx.write(msg, promise);
                for (Object[] e; (e = held.poll()) != null; ) {
                    ctx.write(e[0], (ChannelPromise) e[1]);
                }
                ctx.pipeline().remove(this);
            } else if (msg instanceof ByteBuf) {
                held.add(new Object[] {msg, promise});
            } else {
                ctx.write(msg, promise);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            for (Object[] e; (e = held.poll()) != null; ) {
                ((ByteBuf) e[0]).release();
                ((ChannelPromise) e[1]).tryFailure(new java.nio.channels.ClosedChannelException());
            }
        }
    }
}
