package dev.tunnelwire.proxy.http;

/**
 * Options of the HTTP CONNECT client.
 *
 * @param user     user for {@code Proxy-Authorization: Basic}, or {@code null} (default) for none
 * @param password password (empty when {@code null})
 */
public record HttpConnectorOptions(String user, String password) {

    public HttpConnectorOptions {
        if (user == null && password != null) {
            throw new IllegalArgumentException("password without user");
        }
    }

    public static HttpConnectorOptions defaults() {
        return new HttpConnectorOptions(null, null);
    }

    @Override
    public String toString() {
        return "HttpConnectorOptions[user=" + user + ", password=" + (password == null ? null : "***") + "]";
    }
}
