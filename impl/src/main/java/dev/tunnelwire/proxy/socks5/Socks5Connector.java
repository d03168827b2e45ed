package dev.tunnelwire.proxy.socks5;

import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.socksx.v5.DefaultSocks5CommandRequest;
import io.netty.handler.codec.socksx.v5.DefaultSocks5PasswordAuthRequest;
import io.netty.handler.codec.socksx.v5.Socks5AddressType;
import io.netty.handler.codec.socksx.v5.Socks5AuthMethod;
import io.netty.handler.codec.socksx.v5.Socks5ClientEncoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandResponse;
import io.netty.handler.codec.socksx.v5.Socks5CommandResponseDecoder;
import io.netty.handler.codec.socksx.v5.Socks5CommandStatus;
import io.netty.handler.codec.socksx.v5.Socks5CommandType;
import io.netty.handler.codec.socksx.v5.Socks5InitialResponse;
import io.netty.handler.codec.socksx.v5.Socks5InitialResponseDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthResponse;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthResponseDecoder;
import io.netty.handler.codec.socksx.v5.Socks5PasswordAuthStatus;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.util.Objects;

/**
 * The SOCKS5 client on Netty's codec-socks: offers one method ({@code 00}, or {@code 02} with credentials), then
 * authenticates and sends CONNECT, one round trip each; the greeting is the dialer's first payload, the client's
 * payload is held and written after the success reply (SOCKS5 has no safe way to pipeline it). The connection is
 * ready after the reply; a refusal fails it with a {@link ProxyException} whose code is the reply code (auth
 * failure: the RFC 1929 status, method refused: {@code 0xFF}). Bytes after the reply are never lost.
 */
public final class Socks5Connector implements Connector {

    private final Socks5ConnectorOptions options;

    public Socks5Connector(Socks5ConnectorOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return Socks5Handler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        Socks5AuthMethod method = options.user() == null ? Socks5AuthMethod.NO_AUTH : Socks5AuthMethod.PASSWORD;
        return new Handshake() {
            private ByteBuf held = payload;

            @Override
            public ByteBuf firstBytes() {
                return alloc.buffer(3).writeByte(5).writeByte(1).writeByte(method.byteValue());
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                ByteBuf p = held;
                held = null;
                tunnel.pipeline().addLast("tw-socks5-encoder", Socks5ClientEncoder.DEFAULT);
                tunnel.pipeline().addLast("tw-socks5-decoder", new Socks5InitialResponseDecoder());
                tunnel.pipeline().addLast("tw-socks5-client", new ClientHandler(options, method, destination,
                        ready, p));
            }
        };
    }

    static final class ClientHandler extends ChannelInboundHandlerAdapter {
        private final Socks5ConnectorOptions options;
        private final Socks5AuthMethod method;
        private final Destination destination;
        private final Promise<Void> ready;
        private ByteBuf held;

        ClientHandler(Socks5ConnectorOptions options, Socks5AuthMethod method, Destination destination,
                      Promise<Void> ready, ByteBuf held) {
            this.options = options;
            this.method = method;
            this.destination = destination;
            this.ready = ready;
            this.held = held;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            try {
                if (msg instanceof DecoderResultProvider p && !p.decoderResult().isSuccess()) {
                    throw new ProxyException(Socks5Handler.PROTOCOL, -1, "malformed reply: " + p.decoderResult());
                }
                if (msg instanceof Socks5InitialResponse r) {
                    if (r.authMethod() != method) {
                        throw new ProxyException(Socks5Handler.PROTOCOL, r.authMethod().byteValue() & 0xff,
                                "server refused authentication method " + method);
                    }
                    if (method == Socks5AuthMethod.PASSWORD) {
                        ctx.pipeline().replace("tw-socks5-decoder", "tw-socks5-decoder",
                                new Socks5PasswordAuthResponseDecoder());
                        ctx.writeAndFlush(new DefaultSocks5PasswordAuthRequest(options.user(),
                                options.password() == null ? "" : options.password()));
                    } else {
                        sendCommand(ctx);
                    }
                } else if (msg instanceof Socks5PasswordAuthResponse r) {
                    if (r.status() != Socks5PasswordAuthStatus.SUCCESS) {
                        throw new ProxyException(Socks5Handler.PROTOCOL, r.status().byteValue() & 0xff,
                                "authentication failed");
                    }
                    sendCommand(ctx);
                } else if (msg instanceof Socks5CommandResponse r) {
                    if (r.status() != Socks5CommandStatus.SUCCESS) {
                        throw new ProxyException(Socks5Handler.PROTOCOL, r.status().byteValue() & 0xff,
                                "CONNECT refused: " + r.status());
                    }
                    if (held != null) {
                        ctx.writeAndFlush(held);
                        held = null;
                    }
                    ctx.pipeline().remove(this);
                    ctx.pipeline().remove("tw-socks5-decoder");
                    ctx.pipeline().remove("tw-socks5-encoder");
                    ready.trySuccess(null);
                } else if (msg instanceof ByteBuf) {
                    throw new ProxyException(Socks5Handler.PROTOCOL, -1, "data before the reply");
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void sendCommand(ChannelHandlerContext ctx) {
            ctx.pipeline().replace("tw-socks5-decoder", "tw-socks5-decoder", new Socks5CommandResponseDecoder());
            Socks5AddressType type = !destination.isIp() ? Socks5AddressType.DOMAIN
                    : destination.ipBytes().length == 4 ? Socks5AddressType.IPv4 : Socks5AddressType.IPv6;
            ctx.writeAndFlush(new DefaultSocks5CommandRequest(Socks5CommandType.CONNECT, type, destination.host(),
                    destination.port()));
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (held != null) {
                held.release();
                held = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ready.tryFailure(new ProxyException(Socks5Handler.PROTOCOL, -1, "connection closed before the reply"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ready.tryFailure(cause);
            ctx.close();
        }
    }
}
