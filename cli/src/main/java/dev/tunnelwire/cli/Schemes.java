package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.proxy.Protocols;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * gost's scheme names and defaults (peer-gost.md section 11), mapped onto our transports and protocols.
 *
 * <ul>
 *   <li>{@code -L}: one scheme is both handler and listener; an unknown handler means {@code auto} and an unknown
 *       listener {@code tcp}: {@code ws://} = auto+ws, {@code http://} = http+tcp, {@code grpc://} = auto+grpc.
 *       With forward targets in the path the handler is {@code forward} ({@code relay} stays relay).</li>
 *   <li>{@code -F}: one scheme is both connector and dialer; an unknown connector means {@code http} and an unknown
 *       dialer {@code tcp}: {@code -F ws://} = http+ws, {@code -F relay://} = relay+tcp.</li>
 *   <li>TLS variants: {@code tls}, {@code wss}, {@code phts}, {@code mwss}, {@code h2}, {@code http2}, and
 *       {@code grpc} unless {@code grpcInsecure=true}.</li>
 * </ul>
 */
final class Schemes {

    /** gost transport names that are another of ours plus TLS. */
    private static final Map<String, String> TLS_ALIASES = Map.of("tls", "tcp", "wss", "ws", "phts", "pht",
            "mwss", "mws");
    private static final Set<String> TLS_NATIVE = Set.of("h2", "http2");
    /** Listener/dialer names gost knows; those we lack are errors, not gost's silent fallback to tcp. */
    private static final Set<String> GOST_TRANSPORTS = Set.of("tcp", "udp", "tls", "mtls", "ws", "mws", "wss", "mwss",
            "h2", "h2c", "http2", "grpc", "pht", "phts", "h3", "wt", "quic", "kcp", "ssh", "sshd", "dtls", "icmp",
            "ohttp", "otls", "obfs4", "obfs-http", "obfs-tls", "ftcp", "rtcp", "rudp", "tun", "tap", "dns", "unix",
            "serial", "redirect", "tproxy", "red", "redu", "mtcp", "mkcp");

    private final TransportRegistry registry;

    Schemes(TransportRegistry registry) {
        this.registry = registry;
    }

    /** Whether the name is a transport (ours, or one gost has: {@link #transport} then says if it is available). */
    boolean isTransport(String gostName) {
        String n = gostName.toLowerCase(Locale.ROOT);
        return registry.contains(TLS_ALIASES.getOrDefault(n, n)) || TLS_ALIASES.containsKey(n)
                || GOST_TRANSPORTS.contains(n);
    }

    static boolean isHandler(String name) {
        return Protocols.handlerNames().contains(name.toLowerCase(Locale.ROOT));
    }

    static boolean isConnector(String name) {
        return Protocols.connectorNames().contains(name.toLowerCase(Locale.ROOT));
    }

    /** Our registry scheme for a gost transport name; fails naming the available ones. */
    String transport(String gostName) {
        String n = gostName.toLowerCase(Locale.ROOT);
        String ours = TLS_ALIASES.getOrDefault(n, n);
        if (!registry.contains(ours)) {
            throw new IllegalArgumentException("transport '" + gostName + "' is not available; available: "
                    + registry.schemes() + " and the TLS forms " + TLS_ALIASES.keySet());
        }
        return ours;
    }

    /** Parses (and so validates) a transport's gost metadata, as the launcher will. */
    dev.tunnelwire.TransportOptions parse(String scheme, Map<String, String> params) {
        return registry.provider(scheme).parse(params);
    }

    /** Whether a gost transport name implies TLS. */
    static boolean tls(String gostName, boolean grpcInsecure) {
        String n = gostName.toLowerCase(Locale.ROOT);
        return TLS_ALIASES.containsKey(n) || TLS_NATIVE.contains(n) || n.equals("grpc") && !grpcInsecure;
    }
}
