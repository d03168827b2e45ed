package dev.tunnelwire.proxy.socks5;

/**
 * Options of the SOCKS5 client.
 *
 * @param user     user name (RFC 1929), or {@code null} (default) to offer only "no authentication"
 * @param password password (empty when {@code null})
 */
public record Socks5ConnectorOptions(String user, String password) {

    public Socks5ConnectorOptions {
        if (user == null && password != null) {
            throw new IllegalArgumentException("password without user");
        }
        if (user != null && (user.length() > 255 || (password != null && password.length() > 255))) {
            throw new IllegalArgumentException("SOCKS5 user name and password are limited to 255 characters");
        }
    }

    public static Socks5ConnectorOptions defaults() {
        return new Socks5ConnectorOptions(null, null);
    }

    @Override
    public String toString() {
        return "Socks5ConnectorOptions[user=" + user + ", password=" + (password == null ? null : "***") + "]";
    }
}
