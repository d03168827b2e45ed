package dev.tunnelwire.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Requires a PROXY protocol header (v1 or v2, detected by {@link HAProxyMessageDecoder}, which sits in front of this
 * handler) and records its source address as the connection's client address ({@link Connections#CLIENT_ADDRESS}).
 * A {@code LOCAL} command or an {@code UNKNOWN} protocol keeps the TCP peer address, as HAProxy specifies. A connection
 * that sends no header within the timeout, or a malformed one, is closed. Removes itself after the header; the decoder
 * removes itself too and forwards the bytes that followed the header.
 *
 * <p>Reference counting: releases the {@link HAProxyMessage}.
 */
public final class ProxyProtocolServerHandler extends ChannelInboundHandlerAdapter {

    public static final long DEFAULT_TIMEOUT_MILLIS = 15_000;

    private final long timeoutMillis;
    private ScheduledFuture<?> timeout;

    public ProxyProtocolServerHandler(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> {
            ctx.close();
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HAProxyMessage m) {
            try {
                if (m.command() == HAProxyCommand.PROXY && m.proxiedProtocol() != HAProxyProxiedProtocol.UNKNOWN
                        && m.sourceAddress() != null) {
                    ctx.channel().attr(Connections.CLIENT_ADDRESS)
                            .set(new InetSocketAddress(m.sourceAddress(), m.sourcePort()));
                }
            } finally {
                m.release();
            }
            ctx.pipeline().remove(this);
            ctx.fireUserEventTriggered(ProxyHeaderDecodedEvent.INSTANCE);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A malformed or missing header: HAProxyMessageDecoder fails; nothing sensible can be answered.
        ctx.close();
    }
}
