package dev.tunnelwire.transport.httpupgrade;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Keeps what the client sent during the handshake, for the {@link HttpUpgradeFallback}: every inbound buffer is
 * passed on unchanged and a retained duplicate of it is added to a composite (no copy; the decoder behind never
 * writes into a buffer whose reference count is above one). Installed only when a fallback is configured, in front
 * of the HTTP codec; removed at the end of the handshake, which releases the recording unless it was
 * {@linkplain #take() taken}.
 */
final class HttpUpgradeRecorder extends ChannelInboundHandlerAdapter {

    private CompositeByteBuf recorded;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        recorded = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (recorded != null && msg instanceof ByteBuf b && b.isReadable()) {
            recorded.addComponent(true, b.retainedDuplicate());
        }
        ctx.fireChannelRead(msg);
    }

    /** Every byte read so far; ownership passes to the caller. */
    ByteBuf take() {
        ByteBuf r = recorded;
        recorded = null;
        return r;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (recorded != null) {
            recorded.release();
            recorded = null;
        }
    }
}
