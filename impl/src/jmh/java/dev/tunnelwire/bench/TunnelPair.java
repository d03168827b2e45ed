package dev.tunnelwire.bench;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One tunnel of a real transport between a dialer and a listener on 127.0.0.1, both in this JVM, with an
 * {@link End} handler as the application on each side. {@link #upload}, {@link #download} and {@link #echo} move a
 * number of bytes and return when the receiving application has counted all of them.
 *
 * <p>Senders write {@value #CHUNK}-byte slices of one pre-filled random buffer (no generation cost, no copy of
 * ours), driven by writability: a sender writes while its tunnel is writable and resumes on the writability change,
 * so each direction has backpressure and bounded memory, as the relay does.
 */
public final class TunnelPair implements AutoCloseable {

    /** Size of one application write: the size of a typical relay read. */
    public static final int CHUNK = 64 * 1024;

    private final TunnelRuntime runtime;
    private final TunnelListener listener;
    private final TunnelDialer dialer;
    private final ByteBuf payload;
    private final End clientEnd = new End();
    private final End serverEnd = new End();
    private final Channel client;
    private final Channel server;

    /**
     * @param scheme  a transport scheme of {@link TransportRegistry#defaultRegistry()} ({@code tcp}, {@code ws},
     *                {@code httpupgrade}, {@code grpc}, {@code h2c}, ...)
     * @param params  transport options in gost's metadata form (same for both sides)
     * @param tls     TLS with the test PKI on both sides
     * @param threads event loops of the runtime shared by both sides
     */
    public TunnelPair(String scheme, Map<String, String> params, boolean tls, int threads) throws Exception {
        TransportProvider provider = TransportRegistry.defaultRegistry().provider(scheme);
        runtime = TunnelRuntime.create(threads);
        byte[] bytes = new byte[CHUNK];
        ThreadLocalRandom.current().nextBytes(bytes);
        payload = Unpooled.directBuffer(CHUNK).writeBytes(bytes);
        TlsServerOptions serverTls = null;
        TlsClientOptions clientTls = null;
        if (tls) {
            TestPki pki = TestPki.get();
            serverTls = TlsServerOptions.builder().keyAndChain(pki.serverKey(), pki.serverCertChain()).build();
            clientTls = TlsClientOptions.builder().serverName("localhost").trust(pki.caCertificate()).build();
        }
        listener = provider.newListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), serverTls),
                provider.parse(params));
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        listener.bind((ch, info) -> {
            ch.pipeline().addLast("bench-end", serverEnd);
            accepted.complete(ch);
        }).sync();
        dialer = provider.newDialer(runtime, DialerConfig.of(listener.localAddress(), clientTls),
                provider.parse(params));
        client = dialer.open((ch, info) -> ch.pipeline().addLast("bench-end", clientEnd)).sync().getNow();
        server = accepted.get(10, TimeUnit.SECONDS);
        // A first round trip settles lazy setup (HTTP/2 windows, TLS session) before anything is measured.
        echo(CHUNK);
    }

    /** Client to server: returns when the server's application has read {@code bytes}. */
    public void upload(long bytes) throws Exception {
        run(clientEnd, serverEnd, bytes, false);
    }

    /** Server to client. */
    public void download(long bytes) throws Exception {
        run(serverEnd, clientEnd, bytes, false);
    }

    /** Client to server and back: the server's application writes back what it reads. */
    public void echo(long bytes) throws Exception {
        run(clientEnd, clientEnd, bytes, true);
    }

    private void run(End sender, End receiver, long bytes, boolean echo) throws Exception {
        Promise<Void> done = receiver.channel().eventLoop().newPromise();
        receiver.channel().eventLoop().submit(() -> receiver.expect(bytes, done)).sync();
        serverEnd.channel().eventLoop().submit(() -> serverEnd.echo = echo).sync();
        sender.channel().eventLoop().execute(() -> sender.send(bytes));
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("transfer of " + bytes + " bytes did not finish: sender "
                    + sender.remaining + " left, receiver " + receiver.received + " of " + receiver.target);
        }
        done.sync();
    }

    @Override
    public void close() {
        if (client != null) {
            client.close().syncUninterruptibly();
        }
        dialer.close();
        listener.close();
        runtime.close();
        payload.release();
    }

    /**
     * The application on one side: counts (and releases) what it reads, or writes it back when {@link #echo} is set;
     * sends {@link #remaining} bytes of slices of the payload while writable. Runs on its channel's event loop.
     */
    private final class End extends ChannelInboundHandlerAdapter {
        private ChannelHandlerContext ctx;
        boolean echo;
        long remaining;
        long received;
        long target;
        Promise<Void> done;

        Channel channel() {
            return ctx.channel();
        }

        @Override
        public boolean isSharable() {
            return false;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void expect(long bytes, Promise<Void> promise) {
            received = 0;
            target = bytes;
            done = promise;
        }

        void send(long bytes) {
            remaining = bytes;
            pump();
        }

        private void pump() {
            Channel ch = ctx.channel();
            boolean wrote = false;
            while (remaining > 0 && ch.isWritable()) {
                int n = (int) Math.min(CHUNK, remaining);
                remaining -= n;
                ctx.write(payload.retainedSlice(0, n), ctx.voidPromise());
                wrote = true;
            }
            if (wrote) {
                ctx.flush();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            int n = buf.readableBytes();
            if (echo) {
                ctx.write(buf, ctx.voidPromise());
            } else {
                buf.release();
                received += n;
                if (done != null && received >= target) {
                    Promise<Void> p = done;
                    done = null;
                    p.trySuccess(null);
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (echo) {
                ctx.flush();
                if (!ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(false);
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                if (!ctx.channel().config().isAutoRead()) {
                    ctx.channel().config().setAutoRead(true);
                }
                pump();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (done != null) {
                done.tryFailure(cause);
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (done != null) {
                done.tryFailure(new IllegalStateException("tunnel closed after " + received + " bytes"));
            }
        }
    }
}
