package dev.tunnelwire.transport.tcp;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInfo;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import dev.tunnelwire.internal.Establish;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.util.List;

/** Connects, adds TLS/PROXY as configured, and hands the connection itself to the initializer as the tunnel. */
final class TcpDialer implements TunnelDialer {

    private final ClientStack stack;

    TcpDialer(TunnelRuntime runtime, DialerConfig config, TcpOptions options) {
        this.stack = new ClientStack(runtime, config, List.of(), true);
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        return establish(stack.connect(), firstPayload, initializer);
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        return establish(stack.over(carrier), firstPayload, initializer);
    }

    private Future<Channel> establish(Future<Channel> connected, ByteBuf firstPayload, TunnelInitializer init) {
        return stack.handOver(connected, firstPayload, (ch, promise) -> Establish.tunnel(ch,
                TunnelInfo.of(TcpOptions.SCHEME, ch.remoteAddress(), ch.localAddress()), init, firstPayload, promise));
    }

    @Override
    public String transport() {
        return TcpOptions.SCHEME;
    }

    @Override
    public void close() {
        // no pooled connections
    }
}
