package dev.tunnelwire.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * Holds inbound messages and the end of input at the end of an outbound channel's pipeline until the consumer has
 * installed its handlers and removes this one; on removal everything held is fired on, in order. The first held
 * message turns {@code autoRead} off, so at most one read's worth is held.
 *
 * <p>Reference counting: held messages are owned here until fired on at removal, or released when the channel
 * closes first.
 */
public final class HoldInbound extends ChannelInboundHandlerAdapter {

    private final ArrayDeque<Object> held = new ArrayDeque<>();
    private boolean inputShutdown;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        held.add(msg);
        ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // swallowed while holding
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseAll();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        boolean read = !held.isEmpty();
        Object m;
        while ((m = held.poll()) != null) {
            ctx.fireChannelRead(m);
        }
        if (read) {
            ctx.fireChannelReadComplete();
        }
        if (inputShutdown) {
            ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    private void releaseAll() {
        Object m;
        while ((m = held.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
