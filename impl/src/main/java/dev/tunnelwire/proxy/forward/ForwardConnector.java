package dev.tunnelwire.proxy.forward;

import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

/**
 * The forward client: no protocol bytes, the tunnel itself is the connection (the server's forward handler decides
 * the destination, which is ignored here, as in gost). The payload is the dialer's first payload.
 */
public final class ForwardConnector implements Connector {

    public static final ForwardConnector INSTANCE = new ForwardConnector();

    @Override
    public String protocol() {
        return ForwardHandler.PROTOCOL;
    }

    @Override
    public Handshake handshake(Destination destination, ByteBuf payload, ByteBufAllocator alloc) {
        return new Handshake() {
            @Override
            public ByteBuf firstBytes() {
                return payload;
            }

            @Override
            public void install(Channel tunnel, Promise<Void> ready) {
                ready.trySuccess(null);
            }
        };
    }
}
