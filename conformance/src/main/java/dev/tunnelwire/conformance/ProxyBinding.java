package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.Outbound;
import dev.tunnelwire.proxy.Protocols;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Hop;
import dev.tunnelwire.service.Service;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * tunnelwire's proxy protocols in-process, over the raw {@code tcp} transport (gost's {@code http2} proxy over its own
 * HTTP/2-over-TLS transport, see {@link #TRANSPORTS}). Server role: a {@link Service} with the
 * protocol's {@link Handler} and a direct outbound; the destination in the requests is the engine's application
 * ({@link SocketApp}). Client role: a one-hop {@link Chain} whose {@link Connector} speaks to the engine's fake
 * server; the application opens tunnels with {@code Chain.connect(destination, firstPayload)}.
 *
 * <p>Neutral options: {@code users} (server; VLESS: ids, others: {@code {user, password}}), {@code uuid} (VLESS
 * client), {@code user}/{@code password} (client), {@code nodelay} (relay).
 */
final class ProxyBinding {

    /** Fixture protocol name -> tunnelwire protocol name. */
    static final Map<String, String> PROTOCOLS = Map.of("vless", "vless", "socks5", "socks5", "http_connect", "http",
            "relay", "relay", "http2", "http2");

    /**
     * Fixture protocol name -> the tunnelwire transport it is carried by, where it is not raw {@code tcp}: gost's
     * HTTP/2 proxy is its own transport (HTTP/2 over TLS, one stream per proxied connection; peer-gost.md section 3).
     */
    static final Map<String, String> TRANSPORTS = Map.of("http2", "http2");

    private ProxyBinding() {
    }

    static boolean supports(String transport) {
        return PROTOCOLS.containsKey(transport);
    }

    private static TransportProvider transport(Fixture f) {
        return TransportRegistry.defaultRegistry().provider(TRANSPORTS.getOrDefault(f.transport(), "tcp"));
    }

    private static Map<String, String> params(Fixture f) {
        Map<String, String> p = new LinkedHashMap<>();
        if (f.options().has("nodelay")) {
            p.put("nodelay", f.options().get("nodelay").asText());
        }
        return p;
    }

    static Target.Server startServer(TunnelRuntime runtime, Fixture f, WireLog log) throws IOException {
        SocketApp app = SocketApp.listen(log, new InetSocketAddress("127.0.0.1", 0));
        Map<String, String> users = new LinkedHashMap<>();
        for (JsonNode u : f.options().path("users")) {
            if (u.isTextual()) {
                users.put(u.asText(), "");
            } else {
                users.put(u.path("user").asText(), u.path("password").asText());
            }
        }
        Handler handler = Protocols.handler(PROTOCOLS.get(f.transport()), users, null, params(f));
        ListenerConfig cfg = ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0));
        if (EngineTls.of(f) != null) {
            cfg = cfg.withTls(EngineTls.implServer());
        }
        TransportProvider transport = transport(f);
        TunnelListener listener = transport.newListener(runtime, cfg, transport.defaultOptions());
        Chain direct = Chain.direct(runtime);
        Service service = Service.of("conformance", listener, handler, direct, null);
        InetSocketAddress bound = service.bind().syncUninterruptibly().getNow();
        log.note("tunnelwire " + f.transport() + " service on " + bound + "; destination (application) "
                + app.address());
        return new Target.Server() {
            @Override
            public InetSocketAddress address() {
                return bound;
            }

            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public InetSocketAddress appAddress() {
                return app.address();
            }

            @Override
            public void close() {
                service.close();
                direct.close();
                app.close();
            }
        };
    }

    static Target.Client startClient(TunnelRuntime runtime, Fixture f, InetSocketAddress fakeServer, WireLog log) {
        String user = f.options().has("uuid") ? f.options().get("uuid").asText()
                : f.options().has("user") ? f.options().get("user").asText() : null;
        String password = f.options().has("password") ? f.options().get("password").asText() : null;
        Connector connector = Protocols.connector(PROTOCOLS.get(f.transport()), user, password, params(f));
        DialerConfig cfg = DialerConfig.of(fakeServer);
        if (EngineTls.of(f) != null) {
            cfg = cfg.withTls(EngineTls.implClient(EngineTls.of(f)));
        }
        TransportProvider transport = transport(f);
        TunnelDialer dialer = transport.newDialer(runtime, cfg, transport.defaultOptions());
        Chain chain = Chain.of(runtime, List.of(new Hop("conformance", Destination.of(fakeServer), dialer, connector)));
        NettyApp app = new NettyApp(log, (dest, first, init) -> {
            Promise<Channel> done = runtime.group().next().newPromise();
            chain.connect(Destination.parse(dest), first).addListener(fut -> {
                if (!fut.isSuccess()) {
                    done.tryFailure(fut.cause());
                    return;
                }
                Channel ch = (Channel) fut.getNow();
                ch.eventLoop().execute(() -> {
                    try {
                        init.initTunnel(ch, null);
                        if (ch.pipeline().get(Outbound.HOLD) != null) {
                            ch.pipeline().remove(Outbound.HOLD);
                        }
                        done.trySuccess(ch);
                    } catch (Exception e) {
                        ch.close();
                        done.tryFailure(e);
                    }
                });
            });
            return done;
        });
        log.note("tunnelwire " + f.transport() + " connector to " + fakeServer);
        return new Target.Client() {
            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public void close() {
                app.close();
                chain.close();
                dialer.close();
            }
        };
    }
}
