package dev.tunnelwire;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.TimeUnit;

/**
 * The event loops and channel types every dialer and listener runs on.
 *
 * <p>One {@link MultiThreadIoEventLoopGroup} serves both accepting and connected channels: on the small machines this
 * project targets (2 cores), a separate boss group only adds a thread. Native epoll is used when it is available
 * (Linux with the {@code netty-transport-native-epoll} jar), NIO otherwise; {@code -Dtunnelwire.transport=nio} forces
 * NIO. The default thread count is the number of available processors.
 *
 * <p>A runtime created by {@link #create} is owned by its creator and must be {@link #close() closed}; the
 * {@link #shared()} runtime lives as long as the JVM (its threads are daemons).
 */
public final class TunnelRuntime implements AutoCloseable {

    private static final class SharedHolder {
        static final TunnelRuntime SHARED = new TunnelRuntime(defaultThreads(), true);
    }

    private final EventLoopGroup group;
    private final boolean epoll;
    private final boolean shared;

    private TunnelRuntime(int threads, boolean shared) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        this.shared = shared;
        this.epoll = Epoll.isAvailable() && !"nio".equalsIgnoreCase(System.getProperty("tunnelwire.transport"));
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(threads,
                new DefaultThreadFactory(shared ? "tunnelwire-shared" : "tunnelwire", shared), factory);
    }

    /** A new runtime with one event loop per available processor. */
    public static TunnelRuntime create() {
        return new TunnelRuntime(defaultThreads(), false);
    }

    /** A new runtime with {@code threads} event loops. */
    public static TunnelRuntime create(int threads) {
        return new TunnelRuntime(threads, false);
    }

    /** The JVM-wide runtime (daemon threads, never closed). */
    public static TunnelRuntime shared() {
        return SharedHolder.SHARED;
    }

    private static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public EventLoopGroup group() {
        return group;
    }

    public ByteBufAllocator allocator() {
        return ByteBufAllocator.DEFAULT;
    }

    public Class<? extends SocketChannel> socketChannelType() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public Class<? extends ServerSocketChannel> serverChannelType() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends DatagramChannel> datagramChannelType() {
        return epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** {@code epoll} or {@code nio}. */
    public String ioName() {
        return epoll ? "epoll" : "nio";
    }

    /** Shuts the event loops down (no-op for the shared runtime). */
    @Override
    public void close() {
        if (!shared) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
