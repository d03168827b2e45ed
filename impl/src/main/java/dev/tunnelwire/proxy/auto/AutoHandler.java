package dev.tunnelwire.proxy.auto;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.List;
import java.util.Objects;

/**
 * gost's {@code auto} server: looks at the first byte; {@code 05} is SOCKS5, anything else HTTP. The chosen
 * handler's pipeline is installed behind the sniffer, which then removes itself and hands the bytes on. A client
 * whose input ends before its first byte is closed.
 */
public final class AutoHandler implements Handler {

    public static final String PROTOCOL = "auto";

    private final Socks5Handler socks5;
    private final HttpHandler http;

    public AutoHandler(Socks5HandlerOptions socks5, HttpHandlerOptions http) {
        this.socks5 = new Socks5Handler(Objects.requireNonNull(socks5, "socks5"));
        this.http = new HttpHandler(Objects.requireNonNull(http, "http"));
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        ScheduledFuture<?> timeout = ServerSession.startTimeout(tunnel, context, PROTOCOL);
        tunnel.pipeline().addLast("tw-auto", new ByteToMessageDecoder() {
            @Override
            protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
                if (!in.isReadable()) {
                    return;
                }
                timeout.cancel(false);
                Handler chosen = in.getUnsignedByte(in.readerIndex()) == 5 ? socks5 : http;
                chosen.init(ctx.channel(), context);
                ctx.pipeline().remove(this);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                super.userEventTriggered(ctx, evt); // decodes what is left: may choose a handler and leave
                if (evt instanceof ChannelInputShutdownEvent && !ctx.isRemoved()) {
                    // the client left without a byte; a half-closing tunnel would otherwise stay open
                    timeout.cancel(false);
                    ctx.close();
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) throws Exception {
                timeout.cancel(false);
                super.channelInactive(ctx);
            }
        });
    }
}
