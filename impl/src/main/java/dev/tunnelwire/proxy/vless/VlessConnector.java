package dev.tunnelwire.proxy.vless;

import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.Promise;

import java.util.List;
import java.util.UUID;

/**
 * The VLESS client: the request header and the first payload go in one write (so over WebSocket they ride in the
 * early data); the connection is usable at once, and the server's response ({@code 00 | addons-len | addons}) is
 * stripped from the first downstream bytes when it arrives. A bad version fails with a {@link ProxyException}.
 * A server that rejects the user id simply closes.
 */
public final class VlessConnector implements Connector {

    private final UUID user;

    /** @param id a UUID, or a string mapped with {@link Vless#userId} */
    public VlessConnector(String id) {
        this.user = Vless.userId(id);
    }

    @Override
    public String protocol() {
        return VlessHandler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        ByteBuf request = Vless.request(alloc, user, destination);
        ByteBuf first = payload == null ? request : alloc.compositeBuffer(2).addComponents(true, request, payload);
        return new Handshake() {
            @Override
            public ByteBuf firstBytes() {
                return first;
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                tunnel.pipeline().addLast("tw-vless-client", new ResponseDecoder());
                ready.trySuccess(null);
            }
        };
    }

    /** Strips {@code 00 | addons-len | addons}, then steps aside. */
    static final class ResponseDecoder extends ByteToMessageDecoder {
        private boolean failed;

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (failed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (in.readableBytes() < 2) {
                return;
            }
            int version = in.getUnsignedByte(in.readerIndex());
            if (version != Vless.VERSION) {
                failed = true;
                in.skipBytes(in.readableBytes());
                throw new ProxyException(VlessHandler.PROTOCOL, -1, "unknown response version " + version);
            }
            int addons = in.getUnsignedByte(in.readerIndex() + 1);
            if (in.readableBytes() < 2 + addons) {
                return;
            }
            in.skipBytes(2 + addons);
            ctx.pipeline().remove(this);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.fireExceptionCaught(cause);
            ctx.close();
        }
    }
}
