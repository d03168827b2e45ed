package dev.tunnelwire.interop;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.internal.Relay;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Our side of a cell: how our client opens a tunnel to the echo target through the peer's server (outbound), and how
 * our server accepts the peer client's tunnels and delivers them to the echo target (inbound).
 */
interface OurSide {

    /** A line for the report, e.g. {@code tcp {}}. */
    String describe();

    /** Our client for one outbound cell, talking to {@code server} (the recording proxy in front of the peer). */
    Client client(Env env, InetSocketAddress server, boolean tls);

    /** Our server for one inbound cell, bound to 127.0.0.1 on an ephemeral port. */
    Server server(Env env, boolean tls) throws Exception;

    interface Client extends AutoCloseable {
        /** Opens a tunnel to the echo target; {@code first} goes out first (as the dialer's first payload). */
        Conn open(byte[] first) throws Exception;

        @Override
        void close();
    }

    interface Server extends AutoCloseable {
        int port();

        @Override
        void close();
    }

    /**
     * A bare transport: the tunnel carries the echo stream directly (the peer forwards the transport's byte stream to
     * a fixed target: gost's {@code forward} handler, Xray's {@code tunnel} inbound). Options are parsed from gost-style
     * parameters by the transport's provider, exactly as the CLI would.
     */
    static OurSide raw(String scheme, Map<String, String> params) {
        return new OurSide() {
            @Override
            public String describe() {
                return scheme + " " + params;
            }

            @Override
            public Client client(Env env, InetSocketAddress server, boolean tls) {
                TransportProvider p = env.registry().provider(scheme);
                TransportOptions o = p.parse(params);
                TunnelDialer dialer = p.newDialer(env.runtime(), DialerConfig.of(server, tls ? env.clientTls() : null),
                        o);
                return new Client() {
                    @Override
                    public Conn open(byte[] first) throws Exception {
                        Conn[] conn = new Conn[1];
                        Future<Channel> f = dialer.open(Unpooled.wrappedBuffer(first),
                                (ch, info) -> conn[0] = Conn.of(ch));
                        if (!f.await(20, TimeUnit.SECONDS)) {
                            f.cancel(false);
                            throw new IOException(scheme + " dialer: no tunnel after 20 s");
                        }
                        if (!f.isSuccess()) {
                            throw new IOException(scheme + " dialer failed: " + f.cause(), f.cause());
                        }
                        return conn[0];
                    }

                    @Override
                    public void close() {
                        dialer.close();
                    }
                };
            }

            @Override
            public Server server(Env env, boolean tls) throws Exception {
                TransportProvider p = env.registry().provider(scheme);
                TunnelListener l = p.newListener(env.runtime(),
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? env.serverTls() : null),
                        p.parse(params));
                l.bind((ch, info) -> relayToEcho(env, ch)).sync();
                return new Server() {
                    @Override
                    public int port() {
                        return l.localAddress().getPort();
                    }

                    @Override
                    public void close() {
                        l.close();
                    }
                };
            }
        };
    }

    /**
     * Connects the tunnel to the echo target and relays both ways ({@link Relay}: backpressure, half-close). Bytes the
     * tunnel delivers before the connection is up are held and written first.
     */
    static void relayToEcho(Env env, Channel tunnel) {
        Pending pending = new Pending();
        tunnel.pipeline().addLast("interop-pending", pending);
        ChannelFuture cf = new Bootstrap()
                .group(tunnel.eventLoop())
                .channel(env.runtime().socketChannelType())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(env.echo());
        cf.addListener(f -> {
            Channel out = cf.channel();
            if (!f.isSuccess() || !tunnel.isActive()) {
                pending.releaseAll();
                tunnel.close();
                out.close();
                return;
            }
            for (Object m : pending.held) {
                out.write(m);
            }
            out.flush();
            pending.held.clear();
            tunnel.pipeline().remove(pending);
            Relay.join(tunnel, out);
            if (pending.inputShutdown) {
                dev.tunnelwire.Tunnels.shutdownOutput(out);
            }
        });
    }

    /** Holds what the tunnel delivers until the echo connection is up. */
    final class Pending extends ChannelInboundHandlerAdapter {
        final List<Object> held = new ArrayList<>();
        boolean inputShutdown;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown = true;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            releaseAll();
        }

        void releaseAll() {
            held.forEach(ReferenceCountUtil::release);
            held.clear();
        }
    }
}
