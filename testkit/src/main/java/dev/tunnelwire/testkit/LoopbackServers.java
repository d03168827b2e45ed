package dev.tunnelwire.testkit;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;

/**
 * Loopback TCP servers used as tunnel destinations: an echo server (which propagates half-close) and a sink that
 * counts and hashes what it receives. Each instance owns its event loop and is closed with {@link #close()}.
 */
public final class LoopbackServers implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel serverChannel;

    private LoopbackServers(ChannelInitializer<Channel> init) throws InterruptedException {
        serverChannel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(init)
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    /** An echo server on 127.0.0.1 with an ephemeral port. Half-close is echoed as half-close. */
    public static LoopbackServers echo() throws InterruptedException {
        return new LoopbackServers(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new EchoHandler());
            }
        });
    }

    /**
     * A sink on 127.0.0.1: consumes everything; when the peer half-closes or closes, completes {@code result} with
     * the byte count and SHA-256 of what arrived, writes the 8-byte count back and closes.
     */
    public static LoopbackServers sink(CompletableFuture<Digests.Result> result) throws InterruptedException {
        return new LoopbackServers(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    final MessageDigest md = Digests.sha256();
                    long count;

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        try {
                            count += b.readableBytes();
                            Digests.update(md, b);
                        } finally {
                            b.release();
                        }
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof ChannelInputShutdownEvent) {
                            result.complete(new Digests.Result(count, md.digest()));
                            ctx.writeAndFlush(ctx.alloc().buffer(8).writeLong(count))
                                    .addListener(ChannelFutureListener.CLOSE);
                        }
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        result.complete(new Digests.Result(count, md.digest()));
                    }
                });
            }
        });
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Echoes every buffer back on the same channel, with backpressure (reads pause while the channel is not
     * writable). On input shutdown it shuts its own output down after the pending echo is flushed; on a channel
     * without half-close it closes instead.
     */
    public static final class EchoHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(f -> {
                    if (ctx.channel() instanceof DuplexChannel d) {
                        // both directions are done then: release the socket (a half-closed channel whose output is
                        // shut down too stays open in Netty until closed)
                        d.shutdownOutput().addListener(x -> ctx.close());
                    } else {
                        ctx.close();
                    }
                });
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
