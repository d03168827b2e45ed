package dev.tunnelwire.conformance;

import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The application side of our own implementation, in-process: a {@link TunnelInitializer} that records every byte
 * the tunnel delivers (copied, then released) and its half-close and close, and writes what the script says.
 */
final class NettyApp extends AppEndpoint {

    /** How the client under test opens a tunnel for the application. */
    @FunctionalInterface
    interface Opener {
        /**
         * Opens a tunnel (to {@code destination}, for proxy protocols), running {@code init} before any data is
         * delivered; takes ownership of {@code first}.
         */
        io.netty.util.concurrent.Future<Channel> open(String destination, ByteBuf first, TunnelInitializer init);
    }

    private final Opener opener;
    private volatile Channel tunnel;

    NettyApp(WireLog log, TunnelDialer dialer) {
        this(log, dialer == null ? null : (dest, first, init) -> dialer.open(first, init));
    }

    NettyApp(WireLog log, Opener opener) {
        super(log);
        this.opener = opener;
    }

    /** The initializer to give the listener (server role). */
    TunnelInitializer initializer() {
        return (ch, info) -> {
            if (tunnel == null) {
                tunnel = ch;
            }
            ch.pipeline().addLast("conformance-app", new Recorder());
            ch.closeFuture().addListener(f -> closed());
            tunnelAccepted(describe(info));
        };
    }

    private static String describe(TunnelInfo info) {
        if (info == null) {
            return null;
        }
        return "transport=" + info.transport() + " remote=" + info.remoteAddress()
                + (info.path() != null ? " path=" + info.path() : "")
                + (info.authority() != null ? " authority=" + info.authority() : "");
    }

    @Override
    public void open(byte[] firstPayload) {
        openRequested();
        ByteBuf first = firstPayload.length == 0 ? null : Unpooled.wrappedBuffer(firstPayload);
        opener.open(destination(), first, (ch, info) -> {
            tunnel = ch;
            ch.pipeline().addLast("conformance-app", new Recorder());
            // A tunnel may already be closed when the opener hands it over (a proxy response rejected early).
            ch.closeFuture().addListener(c -> closed());
        }).addListener(f -> {
            if (f.isSuccess()) {
                opened(describe(TunnelInfo.get((Channel) f.getNow())));
            } else {
                openFailed(f.cause());
            }
        });
    }

    @Override
    public void write(byte[] data) {
        Channel ch = tunnel;
        log.app("writes " + data.length + " bytes");
        if (ch == null) {
            log.note("application write without a tunnel");
            return;
        }
        ch.writeAndFlush(Unpooled.wrappedBuffer(data)).addListener(f -> {
            if (!f.isSuccess()) {
                log.note("application write failed: " + f.cause());
            }
        });
    }

    @Override
    public void shutdownOutput() {
        Channel ch = tunnel;
        log.app("shuts its output down");
        if (ch != null) {
            Tunnels.shutdownOutput(ch);
        }
    }

    @Override
    public void close() {
        Channel ch = tunnel;
        if (ch != null) {
            ch.close().syncUninterruptibly();
        }
    }

    private final class Recorder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof ByteBuf b) {
                    delivered(ByteBufUtil.getBytes(b));
                } else {
                    log.note("tunnel delivered a non-ByteBuf message: " + msg.getClass().getName());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            closed();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.note("tunnel exception: " + cause);
            ctx.close();
        }
    }
}
