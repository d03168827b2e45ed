package dev.tunnelwire.internal.h2;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;

/**
 * Turns an {@link Http2StreamChannel} whose request/response HEADERS have been exchanged into a byte tunnel: the
 * handlers after it read and write plain {@link ByteBuf}s. Used by every transport whose tunnel is the body of one
 * HTTP/2 stream (V2Ray HTTP, GOST h2/h2c).
 *
 * <ul>
 *   <li><b>Inbound:</b> each DATA frame's content is passed on as a {@link ByteBuf} (empty ones are dropped);
 *       END_STREAM (on DATA or trailing HEADERS) becomes one {@link ChannelInputShutdownEvent}. RST_STREAM events are
 *       swallowed: the stream channel closes by itself right after one.</li>
 *   <li><b>Outbound:</b> a {@link ByteBuf} becomes a DATA frame; an empty one is not sent (many empty DATA frames trip
 *       peers' flood protection) and its promise completes once the writes before it completed, so
 *       {@code writeAndFlush(EMPTY_BUFFER).addListener(CLOSE)} still means "close after the data". Writing
 *       {@link Tunnels#SHUTDOWN_OUTPUT} sends an empty DATA frame with END_STREAM (a half-close); writes after that
 *       fail. Other messages (HTTP/2 frames) pass through.</li>
 *   <li><b>Close:</b> closing the tunnel first ends our side of the stream (END_STREAM) if it is still open, then, if
 *       the peer's side is still open, resets the stream with {@code closeResetCode}: {@link Http2Error#CANCEL} for a
 *       client (what Go's client does when the response body is closed), {@link Http2Error#NO_ERROR} for a server
 *       (what Go's server sends after its END_STREAM). Pending DATA held back by flow control is discarded by the
 *       reset: close after a flushed write's future when everything must arrive.</li>
 *   <li><b>Backpressure:</b> unchanged from the stream channel: with {@code autoRead} off no DATA is delivered and no
 *       flow-control credit is returned to the peer, which therefore stops after one stream window; the stream
 *       channel is writable while its pending outbound bytes (including those waiting for the peer's window) stay
 *       under its write-buffer high water mark.</li>
 * </ul>
 *
 * <p><b>Reference counting.</b> An inbound DATA frame's content is handed on (the frame is not released separately;
 * it shares the content's reference count); empty contents and other frames are released here. An outbound
 * {@link ByteBuf} is owned by the DATA frame written for it, or released here when it is empty or the output is shut.
 *
 * <p>Not sharable; must be added to the stream channel's pipeline after any handshake handler, before the
 * application's handlers.
 */
public final class H2StreamAdapter extends ChannelDuplexHandler {

    public static final String NAME = "tw-h2-stream";

    private final Http2Error closeResetCode;
    private boolean inputShutdown;
    private boolean outputShutdown;
    private boolean endOfInputOnRead;
    private ChannelFuture lastWrite;

    /** @param closeResetCode the RST_STREAM code of a close while the peer's side is open (see class doc) */
    public H2StreamAdapter(Http2Error closeResetCode) {
        this.closeResetCode = closeResetCode;
    }

    /** An adapter for the client side of a stream (close resets with CANCEL). */
    public static H2StreamAdapter forClient() {
        return new H2StreamAdapter(Http2Error.CANCEL);
    }

    /** An adapter for the server side of a stream (close resets with NO_ERROR). */
    public static H2StreamAdapter forServer() {
        return new H2StreamAdapter(Http2Error.NO_ERROR);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
            boolean end = data.isEndStream();
            ByteBuf content = data.content();
            if (content.isReadable() && !inputShutdown) {
                ctx.fireChannelRead(content);
            } else {
                data.release();
            }
            if (end) {
                endOfInput(ctx);
            }
        } else if (msg instanceof Http2HeadersFrame headers) {
            if (headers.isEndStream()) {
                endOfInput(ctx);
            }
        } else if (msg instanceof Http2StreamFrame) {
            ReferenceCountUtil.release(msg);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void endOfInput(ChannelHandlerContext ctx) {
        if (!inputShutdown) {
            inputShutdown = true;
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    /**
     * Reports the end of input when the application next reads (or at once when {@code autoRead} is on): for a
     * stream whose request HEADERS already carried END_STREAM, so that an application that turned {@code autoRead}
     * off in its initializer does not miss the event before its handlers are in place. Call on the event loop.
     */
    public void endOfInputOnRead(ChannelHandlerContext ctx) {
        if (ctx.channel().config().isAutoRead()) {
            endOfInput(ctx);
        } else {
            endOfInputOnRead = true;
        }
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (endOfInputOnRead) {
            endOfInputOnRead = false;
            endOfInput(ctx);
        }
        ctx.read();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2ResetFrame) {
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg == Tunnels.SHUTDOWN_OUTPUT) {
            if (outputShutdown) {
                promise.setSuccess();
            } else {
                outputShutdown = true;
                lastWrite = ctx.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), promise.unvoid());
            }
            return;
        }
        if (msg instanceof ByteBuf buf) {
            if (outputShutdown) {
                buf.release();
                promise.setFailure(new ClosedChannelException());
                return;
            }
            if (!buf.isReadable()) {
                buf.release();
                ChannelFuture prev = lastWrite;
                if (prev == null || prev.isDone()) {
                    promise.trySuccess();
                } else {
                    prev.addListener(f -> promise.trySuccess());
                }
                return;
            }
            lastWrite = ctx.write(new DefaultHttp2DataFrame(buf, false), promise.unvoid());
            return;
        }
        if (msg instanceof Http2DataFrame data && data.isEndStream()
                || msg instanceof Http2HeadersFrame headers && headers.isEndStream()) {
            outputShutdown = true; // a later close must not write another END_STREAM on the closed side
        }
        ctx.write(msg, promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (ctx.channel() instanceof Http2StreamChannel stream && ctx.channel().isActive()
                && ctx.channel().parent().isActive() && Http2CodecUtil.isStreamIdValid(stream.stream().id())) {
            if (!outputShutdown) {
                outputShutdown = true;
                ctx.write(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, true), ctx.voidPromise());
            }
            if (!inputShutdown && closeResetCode != Http2Error.CANCEL) {
                // Netty's stream channel resets with CANCEL on close; any other code must be written first.
                ctx.write(new DefaultHttp2ResetFrame(closeResetCode), ctx.voidPromise());
            }
            ctx.flush();
        }
        ctx.close(promise);
    }
}
