package dev.tunnelwire.proxy.forward;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.Objects;

/**
 * The forward server: no protocol bytes; every tunnel is connected to the configured target (gost's {@code forward}
 * / {@code tcp} handler, Xray's {@code tunnel}). The client's first bytes (waited for up to
 * {@link HandlerContext#firstPayloadWait()}) travel with the outbound request. A target that cannot be reached
 * closes the tunnel.
 */
public final class ForwardHandler implements Handler {

    public static final String PROTOCOL = "forward";

    private final Destination target;

    public ForwardHandler(Destination target) {
        this.target = Objects.requireNonNull(target, "target");
    }

    public Destination target() {
        return target;
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-forward", new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                ServerSession.connect(ctx, context, PROTOCOL, target, true, new ServerSession.Replies() {
                    @Override
                    public void connected(Channel inbound) {
                        // no reply
                    }

                    @Override
                    public void failed(Channel inbound, Throwable cause) {
                        inbound.close();
                    }
                });
                ctx.pipeline().remove(this);
            }
        });
    }
}
