package dev.tunnelwire;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Transports by scheme. The default registry holds the built-in providers from a fixed list (so shading or a fat jar
 * cannot lose them) plus those found by {@link ServiceLoader}. Keys are lower-cased schemes; a scheme claimed twice
 * is an error, as in gost's registry.
 */
public final class TransportRegistry {

    private final Map<String, TransportProvider> byScheme;

    private TransportRegistry(Map<String, TransportProvider> byScheme) {
        this.byScheme = Collections.unmodifiableMap(byScheme);
    }

    /** The built-in providers, in a fixed order. */
    public static List<TransportProvider> builtIn() {
        return List.of(
                new dev.tunnelwire.transport.tcp.TcpTransportProvider(),
                new dev.tunnelwire.transport.pht.PhtTransportProvider(),
                new dev.tunnelwire.transport.httpupgrade.HttpUpgradeTransportProvider(),
                new dev.tunnelwire.transport.ws.WsTransportProvider(),
                new dev.tunnelwire.transport.grpc.GrpcTransportProvider(),
                new dev.tunnelwire.transport.http.HttpTransportProvider(),
                new dev.tunnelwire.transport.h2tunnel.H2TunnelTransportProvider(),
                new dev.tunnelwire.transport.http2.Http2ProxyTransportProvider());
    }

    /** Built-ins plus the providers on the class path; a duplicate scheme throws {@link IllegalStateException}. */
    public static TransportRegistry defaultRegistry() {
        List<TransportProvider> all = new ArrayList<>(builtIn());
        for (TransportProvider p : ServiceLoader.load(TransportProvider.class)) {
            boolean isBuiltIn = builtIn().stream().anyMatch(b -> b.getClass() == p.getClass());
            if (!isBuiltIn) {
                all.add(p);
            }
        }
        return of(all);
    }

    /** A registry of exactly these providers; a duplicate scheme throws {@link IllegalStateException}. */
    public static TransportRegistry of(List<? extends TransportProvider> providers) {
        Map<String, TransportProvider> map = new LinkedHashMap<>();
        for (TransportProvider p : providers) {
            for (String scheme : p.schemes()) {
                String key = scheme.toLowerCase(Locale.ROOT);
                TransportProvider prev = map.putIfAbsent(key, p);
                if (prev != null) {
                    throw new IllegalStateException("duplicate transport scheme '" + key + "': "
                            + prev.getClass().getName() + " and " + p.getClass().getName());
                }
            }
        }
        return new TransportRegistry(map);
    }

    /** The provider for {@code scheme}; {@link IllegalArgumentException} listing the known schemes if none. */
    public TransportProvider provider(String scheme) {
        TransportProvider p = byScheme.get(scheme.toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new IllegalArgumentException("unknown transport '" + scheme + "'; known: " + byScheme.keySet());
        }
        return p;
    }

    public boolean contains(String scheme) {
        return byScheme.containsKey(scheme.toLowerCase(Locale.ROOT));
    }

    /** Every registered scheme, in registration order. */
    public List<String> schemes() {
        return List.copyOf(byScheme.keySet());
    }
}
