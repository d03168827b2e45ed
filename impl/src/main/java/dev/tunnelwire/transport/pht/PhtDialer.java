package dev.tunnelwire.transport.pht;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.util.List;

/**
 * The PHT client. Each tunnel is a session of its own with two HTTP/1.1 connections (control and pull), see
 * {@link PhtClientSession}. PHT cannot run over a single carrier channel (its long poll needs a second connection),
 * so {@link #openOver} fails.
 */
final class PhtDialer implements TunnelDialer {

    private final ClientStack stack;
    private final PhtOptions options;
    private final String hostHeader;

    PhtDialer(TunnelRuntime runtime, DialerConfig config, PhtOptions options) {
        this.stack = new ClientStack(runtime, config, List.of(ApplicationProtocolNames.HTTP_1_1), false);
        this.options = options;
        this.hostHeader = options.host() == null ? config.authority()
                : options.host() + ":" + config.server().getPort();
    }

    @Override
    public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
        return new PhtClientSession(stack, options, hostHeader).start(firstPayload, initializer);
    }

    @Override
    public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
        ReferenceCountUtil.safeRelease(firstPayload);
        return carrier.eventLoop().newFailedFuture(new UnsupportedOperationException(
                "PHT needs two HTTP connections (control and long poll); it cannot run over one carrier channel"));
    }

    @Override
    public String transport() {
        return PhtOptions.SCHEME;
    }

    @Override
    public void close() {
        // sessions own their connections
    }
}
