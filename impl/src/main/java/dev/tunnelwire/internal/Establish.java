package dev.tunnelwire.internal;

import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The last step of every handshake: attach the info, run the user's initializer, then send the first payload. */
public final class Establish {

    private static final Logger log = LoggerFactory.getLogger(Establish.class);

    private Establish() {
    }

    /**
     * Must run on the tunnel's event loop. Attaches {@code info}, calls {@code init}; on success writes and flushes
     * {@code firstPayload} (if any, ownership taken) and completes {@code promise} (if any) with the tunnel. If the
     * initializer throws, the tunnel is closed and the promise failed.
     *
     * @return whether the initializer succeeded
     */
    public static boolean tunnel(Channel tunnel, TunnelInfo info, TunnelInitializer init, ByteBuf firstPayload,
                                 Promise<Channel> promise) {
        tunnel.attr(TunnelInfo.KEY).set(info);
        try {
            init.initTunnel(tunnel, info);
        } catch (Throwable t) {
            ReferenceCountUtil.safeRelease(firstPayload);
            log.warn("tunnel initializer failed for {}", tunnel, t);
            tunnel.close();
            if (promise != null) {
                promise.tryFailure(t);
            }
            return false;
        }
        if (firstPayload != null) {
            if (firstPayload.isReadable()) {
                tunnel.writeAndFlush(firstPayload);
            } else {
                firstPayload.release();
            }
        }
        if (promise != null && !promise.trySuccess(tunnel)) {
            tunnel.close();
        }
        return true;
    }
}
