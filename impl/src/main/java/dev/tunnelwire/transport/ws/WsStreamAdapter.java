package dev.tunnelwire.transport.ws;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Turns a WebSocket connection into a byte stream; the last transport handler of a {@code ws} tunnel, between the
 * frame codec and the application.
 *
 * <p><b>Inbound.</b> The payload of every binary message is passed on as a plain {@link ByteBuf}, fragment by fragment
 * (a fragmented message needs no reassembly buffer: message boundaries carry no meaning in a tunnel). Text messages
 * are passed on the same way or dropped whole, fragments included, per {@link WsOptions#textFrames()}. A ping is
 * answered with a pong carrying its payload; pongs are dropped. A close is answered with a close echoing its status
 * code (an empty close with an empty one), and the connection is closed.
 *
 * <p><b>Outbound.</b> Each {@link ByteBuf} written becomes one binary frame (masked by the client's encoder); with a
 * positive {@link WsOptions#fragmentSize()} a larger write is sent as one fragmented message. No frame carries more
 * than {@link WsOptions#maxFramePayload()} (when set): a larger write leaves as several complete binary frames, and
 * fragments are at most that size too, so an end with the same limit accepts every frame. Empty buffers pass
 * through without a frame (they are flush markers). {@link WebSocketFrame}s written by the application pass
 * unchanged. {@link Tunnels#SHUTDOWN_OUTPUT} fails: WebSocket has no half-close, so
 * {@link Tunnels#shutdownOutput} closes the tunnel. {@code close()} sends a close frame with status 1000 and then
 * closes TCP without waiting for the peer's reply (as sing-box and Xray do); if the close frame cannot be written
 * within {@value WsProtocol#CLOSE_FLUSH_TIMEOUT_MILLIS} ms (a peer that does not read), TCP is closed anyway.
 *
 * <p>A protocol violation (bad framing, a frame over {@link WsOptions#maxFramePayload()}) is answered by the frame
 * decoder with close 1002 or 1009 and the connection closed; the exception is logged at debug level and not passed
 * to the application, which sees the tunnel close.
 *
 * <p><b>Buffers.</b> Frames read are consumed: their content is passed on (ownership with it) or released. Buffers
 * written are owned by this handler and passed to the frame encoder inside frames.
 */
final class WsStreamAdapter extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(WsStreamAdapter.class);

    private final WsOptions.TextFrames textFrames;
    /** Largest payload of a frame we send: the frame limit, {@link Integer#MAX_VALUE} without one. */
    private final int frameLimit;
    /** Fragment size of a fragmented message (at most {@link #frameLimit}); 0: writes are not fragmented. */
    private final int fragmentSize;
    /** The message being received is a text message that is dropped, continuation fragments included. */
    private boolean discardingMessage;
    /** A close frame was sent (or the decoder sent one on a protocol violation): do not send another. */
    private boolean closeSent;

    WsStreamAdapter(WsOptions options) {
        this.textFrames = options.textFrames();
        this.frameLimit = options.maxFramePayload() > 0 ? options.maxFramePayload() : Integer.MAX_VALUE;
        this.fragmentSize = Math.min(options.fragmentSize(), frameLimit);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (frame instanceof BinaryWebSocketFrame) {
            discardingMessage = false;
            deliver(ctx, frame);
        } else if (frame instanceof ContinuationWebSocketFrame) {
            if (discardingMessage) {
                discardingMessage = !frame.isFinalFragment();
                frame.release();
            } else {
                deliver(ctx, frame);
            }
        } else if (frame instanceof TextWebSocketFrame) {
            if (textFrames == WsOptions.TextFrames.DATA) {
                discardingMessage = false;
                deliver(ctx, frame);
            } else {
                discardingMessage = !frame.isFinalFragment();
                frame.release();
            }
        } else if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content()));
        } else if (frame instanceof CloseWebSocketFrame close) {
            int code = close.statusCode();
            close.release();
            onPeerClose(ctx, code);
        } else {
            // Pong, or an unknown control frame type.
            frame.release();
        }
    }

    private static void deliver(ChannelHandlerContext ctx, WebSocketFrame frame) {
        ByteBuf content = frame.content();
        if (content.isReadable()) {
            ctx.fireChannelRead(content);
        } else {
            content.release();
        }
    }

    private void onPeerClose(ChannelHandlerContext ctx, int code) {
        if (closeSent) {
            ctx.close();
            return;
        }
        closeSent = true;
        CloseWebSocketFrame reply;
        if (code < 0) {
            reply = new CloseWebSocketFrame();
        } else {
            try {
                reply = new CloseWebSocketFrame(code, null);
            } catch (IllegalArgumentException e) {
                reply = new CloseWebSocketFrame(WsProtocol.NORMAL_CLOSURE, null);
            }
        }
        ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            int len = buf.readableBytes();
            if (len == 0) {
                ctx.write(buf, promise);
            } else if (fragmentSize > 0 && len > fragmentSize) {
                writeFragmented(ctx, buf, promise);
            } else if (len > frameLimit) {
                writeSplit(ctx, buf, promise);
            } else {
                ctx.write(new BinaryWebSocketFrame(buf), promise);
            }
        } else if (msg == Tunnels.SHUTDOWN_OUTPUT) {
            promise.setFailure(new UnsupportedOperationException("WebSocket has no half-close"));
        } else {
            ctx.write(msg, promise);
        }
    }

    private void writeFragmented(ChannelHandlerContext ctx, ByteBuf buf, ChannelPromise promise) {
        try {
            boolean first = true;
            while (buf.readableBytes() > fragmentSize) {
                ByteBuf part = buf.readRetainedSlice(fragmentSize);
                ctx.write(first ? new BinaryWebSocketFrame(false, 0, part)
                        : new ContinuationWebSocketFrame(false, 0, part), ctx.voidPromise());
                first = false;
            }
            ctx.write(new ContinuationWebSocketFrame(true, 0, buf.retain()), promise);
        } finally {
            buf.release();
        }
    }

    /** A write over the frame limit: complete binary frames of at most {@link #frameLimit} bytes each. */
    private void writeSplit(ChannelHandlerContext ctx, ByteBuf buf, ChannelPromise promise) {
        try {
            while (buf.readableBytes() > frameLimit) {
                ctx.write(new BinaryWebSocketFrame(buf.readRetainedSlice(frameLimit)), ctx.voidPromise());
            }
            ctx.write(new BinaryWebSocketFrame(buf.retain()), promise);
        } finally {
            buf.release();
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (closeSent || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        closeSent = true;
        ScheduledFuture<?> timer = ctx.executor().schedule(() -> {
            ctx.close(promise);
        }, WsProtocol.CLOSE_FLUSH_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        ctx.writeAndFlush(new CloseWebSocketFrame(WsProtocol.NORMAL_CLOSURE, null)).addListener(f -> {
            if (timer.cancel(false)) {
                ctx.close(promise);
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException) {
            // The frame decoder has sent its own close (1002 or 1009) and is closing the connection: handled here.
            closeSent = true;
            log.debug("WebSocket protocol violation on {}: {}", ctx.channel(), cause.getMessage());
            return;
        }
        ctx.fireExceptionCaught(cause);
    }
}
