package dev.tunnelwire.proxy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks a user name and password (SOCKS5 RFC 1929, HTTP {@code Proxy-Authorization: Basic}, relay UserAuth).
 * Called on an event loop: implementations must not block.
 */
@FunctionalInterface
public interface Authenticator {

    /** Whether {@code user}/{@code password} may use the service. Either may be empty, never {@code null}. */
    boolean authenticate(String user, String password);

    /**
     * A static user table. Passwords are compared in constant time ({@link MessageDigest#isEqual}); an unknown user
     * is compared against a dummy so that its timing matches a wrong password.
     */
    static Authenticator users(Map<String, String> users) {
        Map<String, byte[]> table = new LinkedHashMap<>();
        users.forEach((u, p) -> table.put(u, p.getBytes(StandardCharsets.UTF_8)));
        byte[] dummy = new byte[32];
        return (user, password) -> {
            byte[] expected = table.get(user);
            byte[] given = password.getBytes(StandardCharsets.UTF_8);
            boolean ok = MessageDigest.isEqual(expected == null ? dummy : expected, given);
            return ok && expected != null;
        };
    }

    /** One user. */
    static Authenticator user(String user, String password) {
        return users(Map.of(user, password));
    }
}
