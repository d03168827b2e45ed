package dev.tunnelwire.transport.httpupgrade;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.ClientStack;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;

import java.util.List;

/**
 * Connects (TCP, PROXY header and TLS with ALPN {@code http/1.1} as configured), sends the upgrade request and, after
 * the 101, hands the connection itself to the initializer as the tunnel: raw bytes, half-close on cleartext.
 */
final class HttpUpgradeDialer implements TunnelDialer {

    private final ClientStack stack;
    private final HttpUpgradeOptions options;
    private final String host;

    HttpUpgradeDialer(TunnelRuntime runtime, DialerConfig config, HttpUpgradeOptions options) {
        this.stack = new ClientStack(runtime, config, List.of(HttpUpgradeProtocol.ALPN_HTTP_1_1), true);
        this.options = options;
        this.host = hostHeader(config, options);
    }

    /** Xray's order: the option, else the TLS server name, else the server's host; never a port. */
    static String hostHeader(DialerConfig config, HttpUpgradeOptions options) {
        if (options.host() != null) {
            return options.host();
        }
        if (config.tls() != null && config.tls().serverName() != null) {
            return config.tls().serverName();
        }
        String h = config.server().getHostString();
        if (NetUtil.isValidIpV6Address(h)) {
            return "[" + NetUtil.toAddressString(NetUtil.createInetAddressFromIpAddressString(h)) + "]";
        }
        return h;
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
        return stack.handOver(connected, firstPayload, (ch, promise) -> {
            ch.pipeline().addLast(HttpUpgradeProtocol.CODEC, new HttpClientCodec());
            ch.pipeline().addLast(HttpUpgradeProtocol.HANDSHAKE,
                    new HttpUpgradeClientHandshakeHandler(options, host, firstPayload, init, promise));
        });
    }

    @Override
    public String transport() {
        return HttpUpgradeOptions.SCHEME;
    }

    @Override
    public void close() {
        // no pooled connections
    }
}
