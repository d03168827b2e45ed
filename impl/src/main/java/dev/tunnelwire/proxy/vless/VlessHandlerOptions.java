package dev.tunnelwire.proxy.vless;

import java.util.List;
import java.util.Objects;

/**
 * Options of the VLESS server.
 *
 * @param users the accepted user ids: UUIDs, or other strings mapped with {@link Vless#userId} (at least one)
 */
public record VlessHandlerOptions(List<String> users) {

    public VlessHandlerOptions {
        users = List.copyOf(Objects.requireNonNull(users, "users"));
        if (users.isEmpty()) {
            throw new IllegalArgumentException("at least one VLESS user is required");
        }
    }

    public static VlessHandlerOptions of(String... users) {
        return new VlessHandlerOptions(List.of(users));
    }
}
