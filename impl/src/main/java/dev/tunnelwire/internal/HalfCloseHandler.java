package dev.tunnelwire.internal;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;

/**
 * Half-close for cleartext byte-stream tunnels (raw TCP, and HTTP/1 transports after their handshake), installed only
 * on sockets with {@code ALLOW_HALF_CLOSURE}:
 * <ul>
 *   <li>translates {@link Tunnels#SHUTDOWN_OUTPUT} into {@link DuplexChannel#shutdownOutput()} (a TCP FIN) once
 *       everything written before it has been written to the socket (Netty's {@code shutdownOutput} drops what is
 *       still queued); on a carrier that is not a socket (a chain hop) the message is passed down to the carrier's
 *       transport;</li>
 *   <li>closes the channel once both directions are shut down, so that a peer's close (which a half-closing socket
 *       sees only as the end of its input) followed by the application's own shutdown releases the connection.</li>
 * </ul>
 * TLS connections do not get this handler: Netty's {@code SslHandler} does not keep writing after a received
 * close_notify, so over TLS a {@code SHUTDOWN_OUTPUT} fails and {@link Tunnels#shutdownOutput} closes the tunnel.
 */
public final class HalfCloseHandler extends ChannelDuplexHandler {

    public static final String NAME = "tw-half-close";

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg != Tunnels.SHUTDOWN_OUTPUT) {
            ctx.write(msg, promise);
            return;
        }
        if (ctx.channel() instanceof DuplexChannel duplex) {
            // shutdownOutput() discards what is still in the outbound buffer (a socket that is not writable):
            // wait until everything written before has left, then send the FIN.
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                if (!f.isSuccess()) {
                    promise.tryFailure(f.cause());
                    return;
                }
                duplex.shutdownOutput(promise);
                promise.addListener(x -> {
                    if (duplex.isInputShutdown()) {
                        ctx.close();
                    }
                });
            });
        } else {
            ctx.flush();
            ctx.write(msg, promise);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        ctx.fireUserEventTriggered(evt);
        if (evt instanceof ChannelInputShutdownEvent && ctx.channel() instanceof DuplexChannel duplex
                && duplex.isOutputShutdown()) {
            ctx.close();
        }
    }
}
