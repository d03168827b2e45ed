package dev.tunnelwire.proxy.relay;

import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.util.List;
import java.util.Objects;

/**
 * The GOST relay client: sends {@code 01 01 FEALEN [UserAuth] Addr}. By default the request travels together with
 * the first data and the response is checked lazily when it arrives (gost's behaviour; the gost server glues its
 * delayed {@code OK} to the destination's first bytes); with {@code nodelay} the connection is ready only after an
 * {@code OK}. A non-OK status fails the connection with a {@link ProxyException} whose code is the status.
 */
public final class RelayConnector implements Connector {

    private final RelayConnectorOptions options;

    public RelayConnector(RelayConnectorOptions options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public String protocol() {
        return RelayHandler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        ByteBuf request;
        try {
            request = RelayProtocol.connectRequest(alloc, destination, options.user(), options.password());
        } catch (RuntimeException e) {
            ReferenceCountUtil.safeRelease(payload);
            throw e;
        }
        return new Handshake() {
            private ByteBuf held = payload;

            @Override
            public ByteBuf firstBytes() {
                if (options.nodelay() || held == null || !held.isReadable()) {
                    return request;
                }
                ByteBuf p = held;
                held = null;
                return alloc.compositeBuffer(2).addComponents(true, request, p);
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                ByteBuf p = held;
                held = null;
                tunnel.pipeline().addLast("tw-relay-client", new ResponseDecoder(ready, options.nodelay(), p));
                if (!options.nodelay()) {
                    ready.trySuccess(null);
                }
            }
        };
    }

    /** Reads the response header and its features, then steps aside. */
    static final class ResponseDecoder extends ByteToMessageDecoder {
        private final Promise<Void> ready;
        private final boolean nodelay;
        private ByteBuf held;
        private boolean failed;

        ResponseDecoder(Promise<Void> ready, boolean nodelay, ByteBuf held) {
            this.ready = ready;
            this.nodelay = nodelay;
            this.held = held;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (failed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (in.readableBytes() < RelayProtocol.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            int len = in.getUnsignedShort(start + 2);
            if (in.readableBytes() < RelayProtocol.HEADER_LENGTH + len) {
                return;
            }
            int version = in.getUnsignedByte(start);
            int status = in.getUnsignedByte(start + 1);
            in.skipBytes(RelayProtocol.HEADER_LENGTH + len);
            failed = version != RelayProtocol.VERSION || status != RelayProtocol.STATUS_OK;
            if (version != RelayProtocol.VERSION) {
                throw new ProxyException(RelayHandler.PROTOCOL, -1, "bad response version " + version);
            }
            if (status != RelayProtocol.STATUS_OK) {
                throw RelayHandler.error(status);
            }
            if (held != null) {
                ctx.writeAndFlush(held);
                held = null;
            }
            ctx.pipeline().remove(this);
            ready.trySuccess(null);
        }

        @Override
        protected void handlerRemoved0(ChannelHandlerContext ctx) {
            if (held != null) {
                held.release();
                held = null;
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            ready.tryFailure(new ProxyException(RelayHandler.PROTOCOL, -1, "connection closed before the response"));
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof ProxyException) {
                cause = cause.getCause();
            }
            if (!ready.tryFailure(cause)) {
                ctx.fireExceptionCaught(cause);
            }
            ctx.close();
        }
    }
}
