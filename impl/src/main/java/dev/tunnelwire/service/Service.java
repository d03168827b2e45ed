package dev.tunnelwire.service;

import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.HandlerContext;
import dev.tunnelwire.proxy.Outbound;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A listener of any transport serving one proxy {@link Handler}: every tunnel the listener accepts gets the handler's
 * server handshake; the handler connects to the destination it decides through the service's {@link Outbound} (a
 * {@link Chain}, direct or with hops) and relays.
 *
 * <p>The service owns its listener ({@link #close()} closes it) but not its outbound.
 */
public final class Service implements AutoCloseable {

    private final String name;
    private final TunnelListener listener;
    private final Handler handler;
    private final HandlerContext context;

    private Service(String name, TunnelListener listener, Handler handler, Outbound outbound,
                    ServiceOptions options) {
        this.name = Objects.requireNonNull(name, "name");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.handler = Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(outbound, "outbound");
        ServiceOptions o = options == null ? ServiceOptions.defaults() : options;
        this.context = new HandlerContext(name, outbound, o.handshakeTimeout(), o.firstPayloadWait());
    }

    /** A service named {@code name}. */
    public static Service of(String name, TunnelListener listener, Handler handler, Outbound outbound,
                             ServiceOptions options) {
        return new Service(name, listener, handler, outbound, options);
    }

    /** Binds the listener; the future completes with the bound address. */
    public Future<InetSocketAddress> bind() {
        return listener.bind((ch, info) -> handler.init(ch, context));
    }

    public String name() {
        return name;
    }

    public Handler handler() {
        return handler;
    }

    public TunnelListener listener() {
        return listener;
    }

    /** The bound address, or {@code null} before {@link #bind()} completed. */
    public InetSocketAddress localAddress() {
        return listener.localAddress();
    }

    /** Stops accepting; open connections stay open. */
    @Override
    public void close() {
        listener.close();
    }
}
