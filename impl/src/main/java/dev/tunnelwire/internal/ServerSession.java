package dev.tunnelwire.internal;

import dev.tunnelwire.Tunnels;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.Outbound;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The protocol-independent part of every proxy handler: the handshake timeout, connecting to the destination while
 * holding what the client sends meanwhile, the reply, and the relay.
 *
 * <p>A protocol handler that has decided the destination calls {@link #connect}, which adds a dialing handler right
 * after it, and then removes itself and its decoders: bytes the decoders still hold (data pipelined after the
 * request) flow into the dialing handler and become the first payload of the outbound connection.
 */
public final class ServerSession {

    private static final Logger log = LoggerFactory.getLogger("dev.tunnelwire.service");

    private ServerSession() {
    }

    /** A protocol's answers once the outcome of the connect is known. Both run on the inbound event loop. */
    public interface Replies {
        /** Connected: write the success reply (or arrange a delayed one) on {@code inbound}. */
        void connected(Channel inbound);

        /** Could not connect: write the protocol's error reply and close {@code inbound}. */
        void failed(Channel inbound, Throwable cause);
    }

    /** Closes {@code ch} (and logs) unless the handshake completes within the context's timeout. */
    public static ScheduledFuture<?> startTimeout(Channel ch, HandlerContext hc, String protocol) {
        long ms = hc.handshakeTimeout().toMillis();
        return ch.eventLoop().schedule(() -> {
            if (ch.isActive()) {
                warn(hc, ch, protocol, "handshake timed out after " + ms + " ms", null);
                ch.close();
            }
        }, ms, TimeUnit.MILLISECONDS);
    }

    /** Logs a failure with the service name and the client's address. */
    public static void warn(HandlerContext hc, Channel ch, String protocol, String message, Throwable cause) {
        if (cause == null) {
            log.warn("service {}: {} from {}: {}", hc.service(), protocol, Connections.clientAddress(ch), message);
        } else {
            log.warn("service {}: {} from {}: {}: {}", hc.service(), protocol, Connections.clientAddress(ch),
                    message, String.valueOf(cause));
            log.debug("details", cause);
        }
    }

    /**
     * Connects to {@code destination} for the tunnel of {@code ctx} and relays once connected. Adds the dialing
     * handler after {@code ctx}'s handler; the caller removes its own handlers right after this returns.
     *
     * @param clientSpeaksFirst whether the client sends data without waiting for a reply; then, when nothing is
     *                          buffered yet and the outbound {@link Outbound#benefitsFromFirstPayload() benefits},
     *                          the connect waits up to {@link HandlerContext#firstPayloadWait()} for the first bytes
     *                          so that they travel with the outbound request
     */
    public static void connect(ChannelHandlerContext ctx, HandlerContext hc, String protocol, Destination destination,
                               boolean clientSpeaksFirst, Replies replies) {
        ctx.pipeline().addAfter(ctx.name(), "tw-dial",
                new Dialing(hc, protocol, destination, clientSpeaksFirst, false, replies));
    }

    /**
     * Like {@link #connect}, but answers success at once, before connecting (as Xray's and sing-box's SOCKS and HTTP
     * inbounds do): the client's first bytes, waited for up to {@link HandlerContext#firstPayloadWait()}, then travel
     * with the outbound request (WebSocket early data, VLESS/relay header). A failed connect can then only close the
     * connection.
     */
    public static void connectAfterReply(ChannelHandlerContext ctx, HandlerContext hc, String protocol,
                                         Destination destination, Replies replies) {
        ctx.pipeline().addAfter(ctx.name(), "tw-dial",
                new Dialing(hc, protocol, destination, true, true, replies));
    }

    /**
     * Joins {@code inbound} and {@code outbound} with {@link Relay} and then releases what {@link HoldInbound}
     * held on the outbound side.
     */
    public static void join(Channel inbound, Channel outbound) {
        Runnable r = () -> {
            Relay.join(inbound, outbound);
            if (outbound.pipeline().get(Outbound.HOLD) != null) {
                outbound.pipeline().remove(Outbound.HOLD);
            }
        };
        if (outbound.eventLoop().inEventLoop()) {
            r.run();
        } else {
            outbound.eventLoop().execute(r);
        }
    }

    /** Collects client bytes while the outbound connection is made. */
    private static final class Dialing extends ChannelInboundHandlerAdapter {
        private final HandlerContext hc;
        private final String protocol;
        private final Destination destination;
        private final boolean clientSpeaksFirst;
        private final boolean replyFirst;
        private final Replies replies;
        private CompositeByteBuf pending;
        private ScheduledFuture<?> waitTimer;
        private boolean dialing;
        private boolean inputShutdown;

        Dialing(HandlerContext hc, String protocol, Destination destination, boolean clientSpeaksFirst,
                boolean replyFirst, Replies replies) {
            this.hc = hc;
            this.protocol = protocol;
            this.destination = destination;
            this.clientSpeaksFirst = clientSpeaksFirst;
            this.replyFirst = replyFirst;
            this.replies = replies;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            pending = ctx.alloc().compositeBuffer(64);
            ctx.channel().config().setAutoRead(false);
            // Decide after the protocol handler has removed itself and its leftovers arrived here.
            ctx.executor().execute(() -> decide(ctx));
        }

        private void decide(ChannelHandlerContext ctx) {
            if (ctx.isRemoved() || dialing) {
                return;
            }
            if (replyFirst) {
                replies.connected(ctx.channel());
            }
            long wait = hc.firstPayloadWait().toMillis();
            if (clientSpeaksFirst && !pending.isReadable() && wait > 0 && !inputShutdown
                    && hc.outbound().benefitsFromFirstPayload()) {
                waitTimer = ctx.executor().schedule(() -> dial(ctx), wait, TimeUnit.MILLISECONDS);
                ctx.read();
            } else {
                dial(ctx);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf buf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (buf.isReadable()) {
                pending.addComponent(true, buf);
            } else {
                buf.release();
            }
            if (waitTimer != null && !dialing) {
                waitTimer.cancel(false);
                dial(ctx);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // nothing to flush yet
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown = true;
                if (waitTimer != null && !dialing) {
                    waitTimer.cancel(false);
                    dial(ctx);
                }
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (waitTimer != null) {
                waitTimer.cancel(false);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
        }

        private void dial(ChannelHandlerContext ctx) {
            if (dialing || ctx.isRemoved()) {
                return;
            }
            dialing = true;
            if (!ctx.channel().isActive()) {
                return;
            }
            ctx.channel().config().setAutoRead(false);
            ByteBuf first = null;
            if (pending.isReadable()) {
                first = pending;
                pending = ctx.alloc().compositeBuffer(64);
            }
            Future<Channel> f = hc.outbound().connect(destination, first);
            f.addListener(x -> {
                if (ctx.executor().inEventLoop()) {
                    done(ctx, f);
                } else {
                    ctx.executor().execute(() -> done(ctx, f));
                }
            });
        }

        private void done(ChannelHandlerContext ctx, Future<Channel> f) {
            Channel inbound = ctx.channel();
            if (!f.isSuccess()) {
                warn(hc, inbound, protocol, "cannot connect to " + destination, f.cause());
                if (!ctx.isRemoved()) {
                    ctx.pipeline().remove(this);
                }
                if (replyFirst) {
                    inbound.close();
                } else if (inbound.isActive()) {
                    replies.failed(inbound, f.cause());
                }
                return;
            }
            Channel outbound = f.getNow();
            if (!inbound.isActive() || ctx.isRemoved()) {
                outbound.close();
                return;
            }
            if (!replyFirst) {
                replies.connected(inbound);
            }
            if (pending.isReadable()) {
                outbound.write(pending);
            } else {
                pending.release();
            }
            pending = null;
            boolean shut = inputShutdown;
            ctx.pipeline().remove(this);
            if (shut) {
                Tunnels.shutdownOutput(outbound);
            } else {
                outbound.flush();
            }
            join(inbound, outbound);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            warn(hc, ctx.channel(), protocol, "connection failed", cause);
            ctx.close();
        }
    }
}
