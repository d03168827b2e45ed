package dev.tunnelwire;

import java.util.Map;
import java.util.Set;

/**
 * Service-provider interface of one transport: its schemes, its options parsed from a flat parameter map (gost's
 * metadata keys: {@code path}, {@code host}, ...), and factories for its dialer and listener.
 *
 * <p>Built-in providers are registered by {@link TransportRegistry#builtIn()}; third-party ones through
 * {@code META-INF/services/dev.tunnelwire.TransportProvider}. Implementations have a public no-argument constructor
 * and are stateless.
 */
public interface TransportProvider {

    /** The schemes this provider serves, lower case; the first is the primary name. */
    Set<String> schemes();

    /** Options with every default. */
    TransportOptions defaultOptions();

    /**
     * Parses options from gost-style metadata. Unknown keys are an {@link IllegalArgumentException} naming the key;
     * so are invalid values.
     */
    TransportOptions parse(Map<String, String> params);

    TunnelDialer newDialer(TunnelRuntime runtime, DialerConfig config, TransportOptions options);

    TunnelListener newListener(TunnelRuntime runtime, ListenerConfig config, TransportOptions options);

    /** Whether the transport can run here (native libraries present, ...). */
    default boolean isAvailable() {
        return true;
    }

    /** Why {@link #isAvailable()} is false, or {@code null}. */
    default Throwable unavailabilityCause() {
        return null;
    }
}
