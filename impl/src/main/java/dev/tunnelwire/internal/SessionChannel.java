package dev.tunnelwire.internal;

import dev.tunnelwire.Tunnels;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;

import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A virtual tunnel channel for transports whose bytes travel over many HTTP requests (PHT; later XHTTP). It is
 * registered on an ordinary event loop and owned by a {@link Backend} (the session) that moves its bytes.
 *
 * <ul>
 *   <li><b>Outbound:</b> writes stay in this channel's {@link ChannelOutboundBuffer} until the backend takes them
 *       with {@link #takeOutbound(int)} (from {@link Backend#outboundReady}); so the channel's writability reflects
 *       what the remote side has not fetched yet, and the application gets backpressure through the water marks.
 *       The backend calls {@link #kick()} when it can take more (a pull request arrived, a push completed).</li>
 *   <li><b>Inbound:</b> the backend hands received buffers to {@link #deliver(ByteBuf, Runnable)}; they are fired
 *       into the pipeline only when the application reads ({@code autoRead} or {@code read()}), and the per-buffer
 *       callback runs then, so the backend can hold the remote sender (for example, delay a push's 200) until the
 *       application consumed the bytes.</li>
 *   <li><b>Half-close</b> is not supported: {@link Tunnels#SHUTDOWN_OUTPUT} fails, so
 *       {@link Tunnels#shutdownOutput} closes the channel.</li>
 * </ul>
 * All methods except the constructor must be called on the channel's event loop.
 *
 * <p>Reference counting: {@link #deliver} takes ownership of the buffer; {@link #takeOutbound} returns buffers the
 * caller must release (or write on).
 */
public final class SessionChannel extends AbstractChannel {

    /** The transport-side owner of a session channel. */
    public interface Backend {
        /** Data was flushed into the channel; take it with {@link #takeOutbound} if the remote can receive now. */
        void outboundReady(SessionChannel ch);

        /** The channel was closed (by the application or by {@link #close()}). */
        void closed(SessionChannel ch);
    }

    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final ChannelConfig config = new DefaultChannelConfig(this);
    private final Backend backend;
    private final SocketAddress local;
    private final SocketAddress remote;
    private final ArrayDeque<Object[]> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private volatile boolean active;
    private boolean readPending;
    private boolean inWrite;

    public SessionChannel(Backend backend, SocketAddress local, SocketAddress remote) {
        super(null);
        this.backend = backend;
        this.local = local;
        this.remote = remote;
    }

    /** Registers on {@code loop} and becomes active; the future completes on that loop. */
    public io.netty.channel.ChannelFuture start(EventLoop loop) {
        ChannelPromise p = newPromise();
        loop.register(this).addListener(f -> {
            if (!f.isSuccess()) {
                p.setFailure(f.cause());
                return;
            }
            active = true;
            pipeline().fireChannelActive();
            p.setSuccess();
        });
        return p;
    }

    /** Hands a received buffer to the application (when it reads); {@code onConsumed} runs once it was fired. */
    public void deliver(ByteBuf buf, Runnable onConsumed) {
        if (!open) {
            buf.release();
            if (onConsumed != null) {
                onConsumed.run();
            }
            return;
        }
        inbound.add(new Object[] {buf, onConsumed});
        if (readPending) {
            drain();
        }
    }

    /** Number of received buffers the application has not read yet. */
    public int pendingInbound() {
        return inbound.size();
    }

    /**
     * Removes up to {@code maxBytes} of flushed outbound data and returns it (possibly several buffers, in order);
     * empty when nothing is pending. Completes the write promises of what it takes.
     */
    public List<ByteBuf> takeOutbound(int maxBytes) {
        List<ByteBuf> out = new ArrayList<>(2);
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (in == null) {
            return out;
        }
        int total = 0;
        while (total < maxBytes) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            ByteBuf b = (ByteBuf) msg;
            int n = b.readableBytes();
            if (n == 0) {
                in.remove();
                continue;
            }
            int take = Math.min(n, maxBytes - total);
            out.add(b.readRetainedSlice(take));
            total += take;
            if (take == n) {
                in.remove();
            } else {
                in.progress(take);
            }
        }
        return out;
    }

    /** Whether flushed outbound data is waiting to be taken. */
    public boolean hasOutbound() {
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        return in != null && in.current() != null;
    }

    /** Asks for {@link Backend#outboundReady} again (the backend can take data now). */
    public void kick() {
        if (!inWrite && hasOutbound()) {
            unsafe().flush();
        }
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new AbstractUnsafe() {
            @Override
            public void connect(SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
                safeSetFailure(promise, new UnsupportedOperationException("session channels are not connected"));
            }
        };
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remote;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException();
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        active = false;
        for (Object[] e; (e = inbound.poll()) != null; ) {
            ReferenceCountUtil.release(e[0]);
            if (e[1] != null) {
                ((Runnable) e[1]).run();
            }
        }
        backend.closed(this);
    }

    @Override
    protected void doBeginRead() {
        readPending = true;
        drain();
    }

    private void drain() {
        if (inbound.isEmpty()) {
            return;
        }
        readPending = false;
        // Deliver everything queued; autoRead re-arms readPending through read() after readComplete.
        for (Object[] e; (e = inbound.poll()) != null; ) {
            pipeline().fireChannelRead(e[0]);
            if (e[1] != null) {
                ((Runnable) e[1]).run();
            }
            if (!config.isAutoRead()) {
                break;
            }
        }
        pipeline().fireChannelReadComplete();
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        inWrite = true;
        try {
            backend.outboundReady(this);
        } finally {
            inWrite = false;
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type on a session tunnel: "
                + (msg == Tunnels.SHUTDOWN_OUTPUT ? "SHUTDOWN_OUTPUT (no half-close)" : msg.getClass().getName()));
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return active;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }
}
