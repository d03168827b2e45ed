package dev.tunnelwire.interop;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.internal.Relay;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A transparent TCP proxy on 127.0.0.1 placed between our side and the peer in every cell, recording the first bytes
 * of each direction of the first few connections (the wire transcript shown in the report for failed cells). Bytes
 * are passed on unchanged, with backpressure and half-close (through {@link Relay}); only the recorded prefix is
 * copied.
 */
final class RecordingProxy implements AutoCloseable {

    /** Bytes recorded per direction and connection. */
    static final int CAPTURE_BYTES = 2048;
    /** Connections recorded per proxy. */
    static final int CAPTURE_CONNECTIONS = 16;

    private final Channel server;
    private final int captureBytes;
    private final AtomicReference<InetSocketAddress> target = new AtomicReference<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Transcript> transcripts = new ArrayList<>();

    RecordingProxy(TunnelRuntime runtime) throws InterruptedException {
        this(runtime, CAPTURE_BYTES);
    }

    /** A proxy recording up to {@code captureBytes} of each direction ({@link Integer#MAX_VALUE}: everything). */
    RecordingProxy(TunnelRuntime runtime, int captureBytes) throws InterruptedException {
        this.captureBytes = captureBytes;
        server = new ServerBootstrap()
                .group(runtime.group())
                .channel(runtime.serverChannelType())
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted(runtime, ch);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Where accepted connections go; may be set after the proxy is bound. */
    void target(InetSocketAddress address) {
        target.set(address);
    }

    int connections() {
        return connections.get();
    }

    /** The transcripts recorded so far (copies). */
    List<Transcript> transcripts() {
        synchronized (transcripts) {
            return List.copyOf(transcripts);
        }
    }

    /** Forgets what was recorded (before a cell's run, so its transcript shows only its own connections). */
    void reset() {
        synchronized (transcripts) {
            transcripts.clear();
        }
        connections.set(0);
    }

    private void accepted(TunnelRuntime runtime, Channel in) {
        int n = connections.incrementAndGet();
        Transcript t = n <= CAPTURE_CONNECTIONS ? new Transcript(n) : null;
        if (t != null) {
            synchronized (transcripts) {
                transcripts.add(t);
            }
            in.pipeline().addLast(new Capture(t, Transcript.Dir.TO_SERVER, captureBytes));
        }
        InetSocketAddress to = target.get();
        if (to == null) {
            if (t != null) {
                t.event(Transcript.Dir.TO_SERVER, "proxy has no target; closed");
            }
            in.close();
            return;
        }
        ChannelFuture cf = new Bootstrap()
                .group(in.eventLoop())
                .channel(runtime.socketChannelType())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (t != null) {
                            ch.pipeline().addLast(new Capture(t, Transcript.Dir.TO_CLIENT, captureBytes));
                        }
                    }
                })
                .connect(to);
        cf.addListener(f -> {
            if (f.isSuccess()) {
                Relay.join(in, cf.channel());
            } else {
                if (t != null) {
                    t.event(Transcript.Dir.TO_SERVER, "proxy cannot connect to " + to + ": " + f.cause());
                }
                in.close();
            }
        });
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    /** Copies the first bytes read on one side into the transcript and passes everything on. */
    private static final class Capture extends ChannelInboundHandlerAdapter {
        private final Transcript transcript;
        private final Transcript.Dir dir;
        private final int limit;

        Capture(Transcript transcript, Transcript.Dir dir, int limit) {
            this.transcript = transcript;
            this.dir = dir;
            this.limit = limit;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                transcript.bytes(dir, b, limit);
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                transcript.event(dir, "FIN (half-close)");
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            transcript.event(dir, "connection closed");
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            transcript.event(dir, "error: " + cause);
            ctx.fireExceptionCaught(cause);
        }
    }
}
