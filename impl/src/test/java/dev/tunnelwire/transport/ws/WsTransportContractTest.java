package dev.tunnelwire.transport.ws;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.testkit.TransportContractTest;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelInitializer;
import dev.tunnelwire.TunnelListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.Nested;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The transport contract for {@code ws}: cleartext, TLS ({@code wss}), and with early data. In the early-data variants
 * every tunnel is opened with a 26-byte first payload (the size of a VLESS request header) that rides in the handshake
 * ({@code Sec-WebSocket-Protocol} for Xray's dialect, the path for sing-box's), and the server strips it before the
 * contract's handlers see any data, so each contract test runs through the early-data path. WebSocket has no
 * half-close. The rejected request asks for a wrong path (404).
 */
class WsTransportContractTest {

    private static final WsTransportProvider PROVIDER = new WsTransportProvider();
    private static final InetSocketAddress ANY = new InetSocketAddress("127.0.0.1", 0);

    /** The first payload of the early-data variants. */
    static final byte[] KNOCK = "0123456789abcdefghijklmnop".getBytes(StandardCharsets.US_ASCII);

    static ApiHarness newHarness(boolean tls, WsOptions server, WsOptions client) {
        return newHarness(tls, server, client, false);
    }

    static ApiHarness newHarness(boolean tls, WsOptions server, WsOptions client, boolean earlyData) {
        ListenerConfig lc = ListenerConfig.of(ANY, tls ? ApiHarness.serverTls() : null);
        return ApiHarness.builder()
                .listener(rt -> {
                    TunnelListener l = PROVIDER.newListener(rt, lc, server);
                    return earlyData ? new KnockStrippingListener(l) : l;
                })
                .dialer((rt, addr) -> {
                    TunnelDialer d = PROVIDER.newDialer(rt,
                            DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), client);
                    return earlyData ? new KnockingDialer(d) : d;
                })
                .rejectedDialer((rt, addr) -> PROVIDER.newDialer(rt,
                        DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                        client.toBuilder().path("/elsewhere/").build()),
                        () -> Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII))
                .halfClose(false)
                .build();
    }

    static WsOptions path(String p) {
        return WsOptions.builder().path(p).build();
    }

    @Nested
    class Plain extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false, path("/ws"), path("/ws"));
        }
    }

    @Nested
    class Tls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, path("/ws"), path("/ws"));
        }
    }

    @Nested
    class XrayEarlyDataTls extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(true, path("/ws"), path("/ws?ed=2048"), true);
        }
    }

    @Nested
    class PathEarlyDataFragmented extends TransportContractTest {
        @Override
        protected TunnelHarness createHarness() {
            return newHarness(false,
                    WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build(),
                    WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 16).fragmentSize(4096)
                            .build(), true);
        }
    }

    /** Opens every tunnel with {@link #KNOCK} as its first payload. */
    static final class KnockingDialer implements TunnelDialer {
        private final TunnelDialer d;

        KnockingDialer(TunnelDialer d) {
            this.d = d;
        }

        private static ByteBuf knock(ByteBuf first) {
            ByteBuf k = Unpooled.wrappedBuffer(KNOCK);
            return first == null ? k : Unpooled.wrappedBuffer(k, first);
        }

        @Override
        public Future<Channel> open(ByteBuf firstPayload, TunnelInitializer initializer) {
            return d.open(knock(firstPayload), initializer);
        }

        @Override
        public Future<Channel> openOver(Channel carrier, ByteBuf firstPayload, TunnelInitializer initializer) {
            return d.openOver(carrier, knock(firstPayload), initializer);
        }

        @Override
        public String transport() {
            return d.transport();
        }

        @Override
        public void close() {
            d.close();
        }
    }

    /** Checks and removes {@link #KNOCK} at the start of every accepted tunnel, ahead of the test's handlers. */
    static final class KnockStrippingListener implements TunnelListener {
        private final TunnelListener l;

        KnockStrippingListener(TunnelListener l) {
            this.l = l;
        }

        private static TunnelInitializer wrap(TunnelInitializer init) {
            return (ch, info) -> {
                ch.pipeline().addLast(new StripKnock());
                init.initTunnel(ch, info);
            };
        }

        @Override
        public Future<InetSocketAddress> bind(TunnelInitializer initializer) {
            return l.bind(wrap(initializer));
        }

        @Override
        public void serve(Channel connection, TunnelInitializer initializer) {
            l.serve(connection, wrap(initializer));
        }

        @Override
        public InetSocketAddress localAddress() {
            return l.localAddress();
        }

        @Override
        public String transport() {
            return l.transport();
        }

        @Override
        public void close() {
            l.close();
        }
    }

    static final class StripKnock extends ChannelInboundHandlerAdapter {
        private int matched;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            while (matched < KNOCK.length && b.isReadable()) {
                if (b.readByte() != KNOCK[matched++]) {
                    b.release();
                    ctx.close();
                    throw new IllegalStateException("the first payload did not arrive first");
                }
            }
            if (matched == KNOCK.length) {
                ctx.pipeline().remove(this);
            }
            if (b.isReadable()) {
                ctx.fireChannelRead(b);
            } else {
                b.release();
            }
        }
    }
}
