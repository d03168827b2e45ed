package dev.tunnelwire.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;

/**
 * Sends a protocol response header together with the first bytes written to the channel (VLESS {@code 00 00}, the
 * relay server's delayed {@code 01 00 00 00}), then removes itself. If the channel is half-closed or closed before
 * anything was written, the header is sent first on its own.
 *
 * <p>Reference counting: owns the header until it is written or this handler is removed.
 */
public final class PrefixFirstWrite extends ChannelOutboundHandlerAdapter {

    public static final String NAME = "tw-prefix";

    private ByteBuf header;

    public PrefixFirstWrite(ByteBuf header) {
        this.header = header;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ByteBuf h = take();
        if (h == null) {
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof ByteBuf buf) {
            ctx.write(ctx.alloc().compositeBuffer(2).addComponents(true, h, buf), promise);
        } else {
            ctx.write(h);
            ctx.write(msg, promise);
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ByteBuf h = take();
        if (h != null && ctx.channel().isActive()) {
            ctx.writeAndFlush(h);
        } else if (h != null) {
            h.release();
        }
        ctx.close(promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf h = take();
        if (h != null) {
            h.release();
        }
    }

    private ByteBuf take() {
        ByteBuf h = header;
        header = null;
        return h;
    }
}
