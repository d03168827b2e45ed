package dev.tunnelwire.proxy;

import dev.tunnelwire.internal.Params;
import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.forward.ForwardConnector;
import dev.tunnelwire.proxy.forward.ForwardHandler;
import dev.tunnelwire.proxy.http.HttpConnector;
import dev.tunnelwire.proxy.http.HttpConnectorOptions;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.relay.RelayConnector;
import dev.tunnelwire.proxy.relay.RelayConnectorOptions;
import dev.tunnelwire.proxy.relay.RelayHandler;
import dev.tunnelwire.proxy.relay.RelayHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Connector;
import dev.tunnelwire.proxy.socks5.Socks5ConnectorOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;
import dev.tunnelwire.proxy.vless.VlessConnector;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Builds handlers and connectors by protocol name from the parts of a gost-style URL
 * ({@code socks5://user:pass@host:port?key=value}, {@code relay+ws://...}, {@code tcp://:port/target}), for the CLI.
 * Names: {@code vless}, {@code socks5} (alias {@code socks}), {@code http}, {@code http2} (gost's HTTP/2 proxy, over
 * the {@code http2} transport), {@code relay}, {@code forward} (aliases
 * {@code tcp}), {@code auto} (handler only). Metadata keys (gost's names where gost has them):
 * <ul>
 *   <li>relay: {@code nodelay} (handler and connector);</li>
 *   <li>http handler: {@code proxyAgent}, {@code authBasicRealm}, {@code earlyReply};</li>
 *   <li>socks5 handler: {@code earlyReply}; auto: those of http and socks5.</li>
 * </ul>
 * Unknown keys are an {@link IllegalArgumentException}, as for transports.
 */
public final class Protocols {

    private Protocols() {
    }

    /** Handler names. */
    public static List<String> handlerNames() {
        return List.of("vless", "socks5", "socks", "http", "http2", "relay", "forward", "tcp", "auto");
    }

    /** Connector names. */
    public static List<String> connectorNames() {
        return List.of("vless", "socks5", "socks", "http", "http2", "relay", "forward", "tcp");
    }

    /**
     * A handler.
     *
     * @param users  user name to password (VLESS: the user ids, passwords ignored); empty: no authentication
     * @param target the service's forward target ({@code -L tcp://:port/host:port}); required by {@code forward},
     *               switches {@code relay} to forward mode, refused by the others
     * @param params URL query parameters
     */
    public static Handler handler(String name, Map<String, String> users, Destination target,
                                  Map<String, String> params) {
        String n = name.toLowerCase(Locale.ROOT);
        Params p = new Params(n, params);
        Authenticator auth = users == null || users.isEmpty() ? null : Authenticator.users(users);
        if (target != null && !n.equals("forward") && !n.equals("tcp") && !n.equals("relay")) {
            throw new IllegalArgumentException(n + " handler does not take a forward target");
        }
        Handler h = switch (n) {
            case "vless" -> {
                if (users == null || users.isEmpty()) {
                    throw new IllegalArgumentException("vless handler needs at least one user id");
                }
                yield new VlessHandler(new VlessHandlerOptions(new ArrayList<>(users.keySet())));
            }
            case "socks5", "socks" -> new Socks5Handler(socks5(auth, p));
            case "http" -> new HttpHandler(http(auth, p));
            case "http2" -> new dev.tunnelwire.proxy.http2.Http2ProxyHandler(auth, p.stringOr("authBasicRealm", null));
            case "auto" -> new AutoHandler(socks5(auth, p), http(auth, p));
            case "relay" -> new RelayHandler(RelayHandlerOptions.builder().authenticator(auth).target(target)
                    .nodelay(p.bool("nodelay", RelayHandlerOptions.DEFAULT_NODELAY)).build());
            case "forward", "tcp" -> {
                if (target == null) {
                    throw new IllegalArgumentException("forward handler needs a target");
                }
                yield new ForwardHandler(target);
            }
            default -> throw new IllegalArgumentException("unknown handler '" + name + "'; known: " + handlerNames());
        };
        p.requireAllUsed();
        return h;
    }

    /**
     * A connector.
     *
     * @param user     user name (VLESS: the user id), or {@code null}
     * @param password password, or {@code null}
     * @param params   URL query parameters
     */
    public static Connector connector(String name, String user, String password, Map<String, String> params) {
        String n = name.toLowerCase(Locale.ROOT);
        Params p = new Params(n, params);
        Connector c = switch (n) {
            case "vless" -> {
                if (user == null) {
                    throw new IllegalArgumentException("vless connector needs a user id");
                }
                yield new VlessConnector(user);
            }
            case "socks5", "socks" -> new Socks5Connector(new Socks5ConnectorOptions(user, password));
            case "http" -> new HttpConnector(new HttpConnectorOptions(user, password));
            case "http2" -> new dev.tunnelwire.proxy.http2.Http2ProxyConnector(user, password);
            case "relay" -> new RelayConnector(RelayConnectorOptions.builder().user(user).password(password)
                    .nodelay(p.bool("nodelay", RelayConnectorOptions.DEFAULT_NODELAY)).build());
            case "forward", "tcp" -> ForwardConnector.INSTANCE;
            default -> throw new IllegalArgumentException("unknown connector '" + name + "'; known: "
                    + connectorNames());
        };
        p.requireAllUsed();
        return c;
    }

    private static Socks5HandlerOptions socks5(Authenticator auth, Params p) {
        return new Socks5HandlerOptions(auth, p.bool("earlyReply", Socks5HandlerOptions.DEFAULT_EARLY_REPLY));
    }

    private static HttpHandlerOptions http(Authenticator auth, Params p) {
        return HttpHandlerOptions.builder().authenticator(auth)
                .proxyAgent(p.string(new String[] {"proxyAgent", "http.proxyAgent"}))
                .realm(p.string("authBasicRealm"))
                .earlyReply(p.bool("earlyReply", HttpHandlerOptions.DEFAULT_EARLY_REPLY)).build();
    }
}
