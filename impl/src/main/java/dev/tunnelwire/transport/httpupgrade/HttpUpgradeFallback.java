package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.HalfCloseHandler;
import dev.tunnelwire.internal.Relay;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;

/**
 * Probe resistance for one connection: instead of answering a request that failed validation, connect to the decoy
 * and relay the whole connection to it, starting with every byte already read ({@link HttpUpgradeRecorder}), so that
 * the client sees exactly what the decoy answers. The client stops being read while the decoy connects; a half-close
 * by the client in that time is passed on once the relay runs. If the decoy cannot be reached, the client is closed.
 */
final class HttpUpgradeFallback {

    private static final Logger log = LoggerFactory.getLogger(HttpUpgradeFallback.class);

    private final TunnelRuntime runtime;
    private final InetSocketAddress decoy;
    private boolean inputShutdown;

    HttpUpgradeFallback(TunnelRuntime runtime, InetSocketAddress decoy) {
        this.runtime = runtime;
        this.decoy = decoy;
    }

    /** Starts diverting {@code client}; must run on its event loop, from its handshake handler. */
    void divert(Channel client) {
        client.config().setAutoRead(false);
        ChannelFuture cf = new Bootstrap()
                .group(client.eventLoop())
                .channel(runtime.socketChannelType())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(HalfCloseHandler.NAME, new HalfCloseHandler());
                    }
                })
                .connect(decoy);
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("fallback {} unreachable: {}", decoy, f.cause().toString());
                client.close();
                return;
            }
            join(client, cf.channel());
        });
    }

    /** The client's input ended before the relay was running. */
    void inputShutdown(Channel client) {
        inputShutdown = true;
    }

    private void join(Channel client, Channel decoyChannel) {
        if (!client.isActive()) {
            decoyChannel.close();
            return;
        }
        var p = client.pipeline();
        HttpUpgradeRecorder recorder = (HttpUpgradeRecorder) p.get(HttpUpgradeProtocol.RECORDER);
        ByteBuf recorded = recorder.take();
        p.remove(HttpUpgradeProtocol.RECORDER);
        p.remove(HttpUpgradeProtocol.CODEC); // leftover bytes go to the handshake handler, which drops them:
        p.remove(HttpUpgradeProtocol.HANDSHAKE); // they are part of the recording
        decoyChannel.writeAndFlush(recorded);
        Relay.join(client, decoyChannel);
        if (inputShutdown) {
            p.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }
}
