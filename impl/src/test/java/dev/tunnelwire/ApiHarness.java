package dev.tunnelwire;

import dev.tunnelwire.testkit.TestPki;
import dev.tunnelwire.testkit.TransportContractTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Adapts a transport's real {@link TunnelListener} and {@link TunnelDialer} to the testkit's
 * {@link TransportContractTest.TunnelHarness}: the listener binds 127.0.0.1:0, dialers are made for the bound
 * address. Owns a private {@link TunnelRuntime}.
 */
public final class ApiHarness implements TransportContractTest.TunnelHarness {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final Function<TunnelRuntime, TunnelListener> listenerFactory;
    private final DialerFactory dialerFactory;
    private final DialerFactory rejectedDialerFactory;
    private final Supplier<ByteBuf> rejectedFirstPayload;
    private final boolean halfClose;
    private final long slowReaderBound;
    private final List<TunnelDialer> dialers = new ArrayList<>();
    private TunnelListener listener;
    private TunnelDialer dialer;

    /** Makes a dialer for the bound server address. */
    @FunctionalInterface
    public interface DialerFactory {
        TunnelDialer create(TunnelRuntime runtime, InetSocketAddress server);
    }

    private ApiHarness(Builder b) {
        this.listenerFactory = b.listenerFactory;
        this.dialerFactory = b.dialerFactory;
        this.rejectedDialerFactory = b.rejectedDialerFactory;
        this.rejectedFirstPayload = b.rejectedFirstPayload;
        this.halfClose = b.halfClose;
        this.slowReaderBound = b.slowReaderBound;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Server TLS options from the test PKI (ALPN left to the transport). */
    public static TlsServerOptions serverTls() {
        TestPki pki = TestPki.get();
        return TlsServerOptions.builder().keyAndChain(pki.serverKey(), pki.serverCertChain()).build();
    }

    /** Client TLS options trusting the test PKI's CA, verifying the name {@code localhost}. */
    public static TlsClientOptions clientTls() {
        return TlsClientOptions.builder().serverName("localhost").trust(TestPki.get().caCertificate()).build();
    }

    public TunnelRuntime runtime() {
        return runtime;
    }

    public InetSocketAddress serverAddress() {
        return listener.localAddress();
    }

    @Override
    public void startServer(Consumer<Channel> acceptor) throws Exception {
        listener = listenerFactory.apply(runtime);
        listener.bind((ch, info) -> acceptor.accept(ch)).sync();
        dialer = dialerFactory.create(runtime, listener.localAddress());
        dialers.add(dialer);
    }

    @Override
    public CompletableFuture<Channel> openClient(Consumer<Channel> initializer) {
        return toCompletable(dialer.open((ch, info) -> initializer.accept(ch)));
    }

    @Override
    public CompletableFuture<Channel> openRejected(Consumer<Channel> initializer) {
        TunnelDialer d = rejectedDialerFactory.create(runtime, listener.localAddress());
        dialers.add(d);
        ByteBuf first = rejectedFirstPayload == null ? null : rejectedFirstPayload.get();
        return toCompletable(d.open(first, (ch, info) -> initializer.accept(ch)));
    }

    @Override
    public void shutdownOutput(Channel tunnel) {
        Tunnels.shutdownOutput(tunnel);
    }

    @Override
    public boolean supportsHalfClose() {
        return halfClose;
    }

    @Override
    public long slowReaderBoundBytes() {
        return slowReaderBound;
    }

    @Override
    public void close() {
        for (TunnelDialer d : dialers) {
            d.close();
        }
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    static CompletableFuture<Channel> toCompletable(io.netty.util.concurrent.Future<Channel> f) {
        CompletableFuture<Channel> cf = new CompletableFuture<>();
        f.addListener(x -> {
            if (x.isSuccess()) {
                cf.complete(f.getNow());
            } else {
                cf.completeExceptionally(x.cause());
            }
        });
        return cf;
    }

    public static final class Builder {
        private Function<TunnelRuntime, TunnelListener> listenerFactory;
        private DialerFactory dialerFactory;
        private DialerFactory rejectedDialerFactory;
        private Supplier<ByteBuf> rejectedFirstPayload;
        private boolean halfClose;
        private long slowReaderBound = 24L * 1024 * 1024;

        public Builder listener(Function<TunnelRuntime, TunnelListener> f) {
            listenerFactory = f;
            return this;
        }

        public Builder dialer(DialerFactory f) {
            dialerFactory = f;
            return this;
        }

        /** A dialer whose requests the listener must reject, and optionally bytes it sends first. */
        public Builder rejectedDialer(DialerFactory f, Supplier<ByteBuf> firstPayload) {
            rejectedDialerFactory = f;
            rejectedFirstPayload = firstPayload;
            return this;
        }

        public Builder halfClose(boolean v) {
            halfClose = v;
            return this;
        }

        public Builder slowReaderBound(long v) {
            slowReaderBound = v;
            return this;
        }

        public ApiHarness build() {
            if (listenerFactory == null || dialerFactory == null || rejectedDialerFactory == null) {
                throw new IllegalStateException("listener, dialer and rejectedDialer are required");
            }
            return new ApiHarness(this);
        }
    }
}
