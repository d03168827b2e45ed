package dev.tunnelwire.conformance;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.ProxyProtocolVersion;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;

import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Map;

/**
 * tunnelwire itself, in-process. Server role: the transport's {@link TunnelListener} bound on 127.0.0.1 with the
 * fixture's options, its application a recorder ({@link NettyApp}). Client role: the transport's
 * {@link TunnelDialer} pointed at the engine's fake server.
 */
public final class ImplTarget implements Target {

    /**
     * Fixture transport names whose tunnelwire scheme differs: the V2Ray HTTP transport is {@code http} in the fixtures
     * (sing-box's and Xray's type name) and {@code v2rayhttp} here, because {@code http} is the HTTP proxy's scheme;
     * GOST's HTTP/2 tunnel is {@code h2tunnel} in the fixtures (cleartext: scheme {@code h2c}).
     */
    static final Map<String, String> SCHEMES = Map.of("http", "v2rayhttp", "h2tunnel", "h2c");

    private final TransportRegistry registry;
    private final TunnelRuntime runtime;

    public ImplTarget() {
        this(TransportRegistry.defaultRegistry());
    }

    public ImplTarget(TransportRegistry registry) {
        this.registry = registry;
        this.runtime = TunnelRuntime.create(2);
    }

    @Override
    public String name() {
        return "tunnelwire-impl";
    }

    /** Whether tunnelwire has an in-process binding for this transport or protocol. */
    public boolean supports(String transport) {
        return ProxyBinding.supports(transport) || registry.contains(scheme(transport));
    }

    static String scheme(String transport) {
        return SCHEMES.getOrDefault(transport, transport);
    }

    @Override
    public String unsupported(Fixture fixture) {
        return supports(fixture.transport()) ? null
                : "tunnelwire has no '" + fixture.transport() + "' transport or protocol binding (known: "
                + registry.schemes() + ")";
    }

    private TransportOptions options(Fixture f) {
        TransportProvider p = registry.provider(scheme(f.transport()));
        return p.parse(ImplOptions.params(f));
    }

    @Override
    public Server startServer(Fixture f, WireLog log) throws java.io.IOException {
        if (ProxyBinding.supports(f.transport())) {
            return ProxyBinding.startServer(runtime, f, log);
        }
        TransportProvider p = registry.provider(scheme(f.transport()));
        TransportOptions o = options(f);
        ListenerConfig cfg = ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0))
                .withAcceptProxyProtocol(ImplOptions.listener(f).path("acceptProxyProtocol").asBoolean(false));
        if (EngineTls.of(f) != null) {
            cfg = cfg.withTls(EngineTls.implServer());
        }
        TunnelListener listener = p.newListener(runtime, cfg, o);
        NettyApp app = new NettyApp(log, (NettyApp.Opener) null);
        InetSocketAddress bound = listener.bind(app.initializer()).syncUninterruptibly().getNow();
        log.note("tunnelwire " + f.transport() + " listener on " + bound + " with " + o);
        return new Server() {
            @Override
            public InetSocketAddress address() {
                return bound;
            }

            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public void close() {
                listener.close();
                app.close();
            }
        };
    }

    @Override
    public Client startClient(Fixture f, InetSocketAddress fakeServer, WireLog log) {
        if (ProxyBinding.supports(f.transport())) {
            return ProxyBinding.startClient(runtime, f, fakeServer, log);
        }
        TransportProvider p = registry.provider(scheme(f.transport()));
        TransportOptions o = options(f);
        String pp = ImplOptions.dialer(f).path("proxyProtocol").asText("");
        DialerConfig cfg = DialerConfig.of(fakeServer).withProxyProtocol(pp.isEmpty() ? null
                : ProxyProtocolVersion.valueOf(pp.toUpperCase(Locale.ROOT)));
        if (EngineTls.of(f) != null) {
            cfg = cfg.withTls(EngineTls.implClient(EngineTls.of(f)));
        }
        TunnelDialer dialer = p.newDialer(runtime, cfg, o);
        NettyApp app = new NettyApp(log, dialer);
        log.note("tunnelwire " + f.transport() + " dialer to " + fakeServer + " with " + o);
        return new Client() {
            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public void close() {
                app.close();
                dialer.close();
            }
        };
    }

    @Override
    public void close() {
        runtime.close();
    }
}
