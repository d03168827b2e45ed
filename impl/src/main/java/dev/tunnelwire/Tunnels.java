package dev.tunnelwire;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;

/**
 * Operations on tunnel channels that do not depend on the transport.
 *
 * <p><b>Half-close.</b> A tunnel's output is shut down by writing {@link #SHUTDOWN_OUTPUT}: transports that can carry
 * a half-close (raw TCP and HTTP/1 streams after the handshake, HTTP/2 and gRPC streams with END_STREAM) translate it;
 * on the others the write fails and {@link #shutdownOutput} closes the tunnel instead. The other side sees a
 * half-close as {@link io.netty.channel.socket.ChannelInputShutdownEvent} and may keep writing.
 */
public final class Tunnels {

    /** The outbound message that asks the transport to half-close the tunnel's output. */
    public static final Object SHUTDOWN_OUTPUT = new Object() {
        @Override
        public String toString() {
            return "SHUTDOWN_OUTPUT";
        }
    };

    private Tunnels() {
    }

    /**
     * Flushes what was written and half-closes the tunnel's output; where the transport has no half-close, closes the
     * tunnel after the flush.
     */
    public static ChannelFuture shutdownOutput(Channel tunnel) {
        ChannelFuture f = tunnel.writeAndFlush(SHUTDOWN_OUTPUT);
        f.addListener((ChannelFutureListener) x -> {
            if (!x.isSuccess()) {
                tunnel.close();
            }
        });
        return f;
    }
}
