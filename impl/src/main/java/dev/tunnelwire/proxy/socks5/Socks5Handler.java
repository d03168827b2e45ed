package dev.tunnelwire.proxy.socks5;

import dev.tunnelwire.internal.ServerSession;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.socksx.v5.DefaultSocks5CommandResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5InitialResponse;
import io.netty.handler.codec.socksx.v5.DefaultSocks5PasswordAuthResponse;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5AuthMethod;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequest;
import io.netty.handler.codec.socksx.v5.Socks5CommandRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.handler.codec.socksx.v5.Socks5CommandType;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequest;
import io.netty.handler.codec.socksx.v5.Socks5InitialRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequest;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthRequestDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthStatus;
import io.netty.handler.codec.socksx.v5.Socks5ServerEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Objects;

/**
 * The SOCKS5 server (RFC 1928/1929) on Netty's codec-socks: "no authentication" or username/password, CONNECT to
 * IPv4, IPv6 and domain destinations. The success reply is {@code 05 00 00 01 00 00 00 00 00 00}, as gost sends it.
 * Failures: no acceptable method {@code FF} (then close), bad credentials auth status {@code 01} (then close, as gost),
 * BIND and UDP ASSOCIATE {@code 07} command not supported, destination refused {@code 05}, unknown host {@code 04},
 * other connect failures {@code 03} network unreachable (gost's choice).
 */
public final class Socks5Handler implements Handler {

    public static final String PROTOCOL = "socks5";

    /** RFC 1929 failure status as gost sends it ({@code 01}; Netty's constant is {@code FF}). */
    static final Socks5PasswordAuthStatus AUTH_FAILURE = Socks5PasswordAuthStatus.valueOf((byte) 1);

    private final Socks5HandlerOptions options;

    public Socks5Handler(Socks5HandlerOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return PROTOCOL;
    }

    @Override
    public void init(Channel tunnel, HandlerContext context) {
        tunnel.pipeline().addLast("tw-socks5-decoder", new Socks5InitialRequestDecoder());
        tunnel.pipeline().addLast("tw-socks5-encoder", Socks5ServerEncoder.DEFAULT);
        tunnel.pipeline().addLast("tw-socks5-server",
                new ServerHandler(options, context, ServerSession.startTimeout(tunnel, context, PROTOCOL)));
    }

    /** The SOCKS5 status for a connect failure. */
    static Socks5CommandStatus statusFor(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return Socks5CommandStatus.HOST_UNREACHABLE;
            }
            if (t instanceof ConnectException && !(t instanceof io.netty.channel.ConnectTimeoutException)) {
                return Socks5CommandStatus.CONNECTION_REFUSED;
            }
        }
        return Socks5CommandStatus.NETWORK_UNREACHABLE;
    }

    /** Method selection, authentication, command: one message each, decoders swapped as the state advances. */
    static final class ServerHandler extends ChannelInboundHandlerAdapter {
        private final Socks5HandlerOptions options;
        private final HandlerContext hc;
        private final ScheduledFuture<?> timeout;

        ServerHandler(Socks5HandlerOptions options, HandlerContext hc, ScheduledFuture<?> timeout) {
            this.options = options;
            this.hc = hc;
            this.timeout = timeout;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof DecoderResultProvider p && !p.decoderResult().isSuccess()) {
                    DecoderResult r = p.decoderResult();
                    fail(ctx, "malformed request: " + r.cause());
                    return;
                }
                if (msg instanceof Socks5InitialRequest req) {
                    initial(ctx, req);
                } else if (msg instanceof Socks5PasswordAuthRequest req) {
                    auth(ctx, req);
                } else if (msg instanceof Socks5CommandRequest req) {
                    command(ctx, req);
                }
                // bytes pipelined after a message before the next decoder is in place cannot occur: each decoder
                // passes its leftovers to its successor
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void initial(ChannelHandlerContext ctx, Socks5InitialRequest req) {
            Socks5AuthMethod want = options.authenticator() == null ? Socks5AuthMethod.NO_AUTH
                    : Socks5AuthMethod.PASSWORD;
            if (!req.authMethods().contains(want)) {
                ServerSession.warn(hc, ctx.channel(), PROTOCOL, "no acceptable authentication method in "
                        + req.authMethods(), null);
                close(ctx, new DefaultSocks5InitialResponse(Socks5AuthMethod.UNACCEPTED));
                return;
            }
            ctx.pipeline().replace("tw-socks5-decoder", "tw-socks5-decoder",
                    want == Socks5AuthMethod.NO_AUTH ? new Socks5CommandRequestDecoder()
                            : new Socks5PasswordAuthRequestDecoder());
            ctx.writeAndFlush(new DefaultSocks5InitialResponse(want));
        }

        private void auth(ChannelHandlerContext ctx, Socks5PasswordAuthRequest req) {
            if (!options.authenticator().authenticate(req.username(), req.password())) {
                ServerSession.warn(hc, ctx.channel(), PROTOCOL, "authentication failed for " + req.username(),
                        null);
                close(ctx, new DefaultSocks5PasswordAuthResponse(AUTH_FAILURE));
                return;
            }
            ctx.pipeline().replace("tw-socks5-decoder", "tw-socks5-decoder", new Socks5CommandRequestDecoder());
            ctx.writeAndFlush(new DefaultSocks5PasswordAuthResponse(Socks5PasswordAuthStatus.SUCCESS));
        }

        private void command(ChannelHandlerContext ctx, Socks5CommandRequest req) {
            timeout.cancel(false);
            if (req.type() != Socks5CommandType.CONNECT) {
                ServerSession.warn(hc, ctx.channel(), PROTOCOL, "command not supported: " + req.type(), null);
                close(ctx, new DefaultSocks5CommandResponse(Socks5CommandStatus.COMMAND_UNSUPPORTED,
                        Socks5AddressType.IPv4));
                return;
            }
            Destination dst;
            try {
                dst = new Destination(req.dstAddr(), req.dstPort());
            } catch (IllegalArgumentException e) {
                fail(ctx, "bad destination: " + e.getMessage());
                return;
            }
            ServerSession.Replies replies = new ServerSession.Replies() {
                @Override
                public void connected(Channel inbound) {
                    inbound.writeAndFlush(new DefaultSocks5CommandResponse(Socks5CommandStatus.SUCCESS,
                            Socks5AddressType.IPv4));
                    inbound.pipeline().remove(Socks5ServerEncoder.class);
                }

                @Override
                public void failed(Channel inbound, Throwable cause) {
                    inbound.writeAndFlush(new DefaultSocks5CommandResponse(statusFor(cause),
                            Socks5AddressType.IPv4)).addListener(ChannelFutureListener.CLOSE);
                }
            };
            if (options.earlyReply()) {
                ServerSession.connectAfterReply(ctx, hc, PROTOCOL, dst, replies);
            } else {
                ServerSession.connect(ctx, hc, PROTOCOL, dst, false, replies);
            }
            ctx.pipeline().remove(this);
            ctx.pipeline().remove("tw-socks5-decoder");
        }

        private void close(ChannelHandlerContext ctx, Object reply) {
            timeout.cancel(false);
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
        }

        private void fail(ChannelHandlerContext ctx, String why) {
            timeout.cancel(false);
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, why, null);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            timeout.cancel(false);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ServerSession.warn(hc, ctx.channel(), PROTOCOL, "handshake failed", cause);
            ctx.close();
        }
    }
}
