package dev.tunnelwire.proxy.http;

import dev.tunnelwire.proxy.Authenticator;

import java.util.Objects;

/**
 * Options of the HTTP proxy server.
 *
 * @param authenticator {@code Proxy-Authorization: Basic} check; {@code null} (default): no authentication
 * @param realm         realm in {@code Proxy-Authenticate} (default {@value #DEFAULT_REALM}; gost uses {@code gost})
 * @param proxyAgent    {@code Proxy-Agent} value on the 200, 403 and 503 responses (default
 *                      {@value #DEFAULT_PROXY_AGENT}; gost sends {@code gost/3.0})
 * @param earlyReply    answer CONNECT with 200 before connecting (default {@value #DEFAULT_EARLY_REPLY}: after
 *                      connecting, 503 on failure, as gost); see {@code Socks5HandlerOptions#earlyReply}
 */
public record HttpHandlerOptions(Authenticator authenticator, String realm, String proxyAgent, boolean earlyReply) {

    public static final boolean DEFAULT_EARLY_REPLY = false;

    public static final String DEFAULT_REALM = "tunnelwire";
    public static final String DEFAULT_PROXY_AGENT = "tunnelwire";

    public HttpHandlerOptions {
        realm = Objects.requireNonNullElse(realm, DEFAULT_REALM);
        proxyAgent = Objects.requireNonNullElse(proxyAgent, DEFAULT_PROXY_AGENT);
        if (realm.indexOf('"') >= 0 || realm.indexOf('\r') >= 0 || realm.indexOf('\n') >= 0
                || proxyAgent.indexOf('\r') >= 0 || proxyAgent.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("realm and proxyAgent must not contain quotes or line breaks");
        }
    }

    public static HttpHandlerOptions defaults() {
        return new HttpHandlerOptions(null, null, null, DEFAULT_EARLY_REPLY);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().authenticator(authenticator).realm(realm).proxyAgent(proxyAgent).earlyReply(earlyReply);
    }

    public static final class Builder {
        private Authenticator authenticator;
        private String realm;
        private String proxyAgent;
        private boolean earlyReply = DEFAULT_EARLY_REPLY;

        public Builder earlyReply(boolean v) {
            earlyReply = v;
            return this;
        }

        public Builder authenticator(Authenticator v) {
            authenticator = v;
            return this;
        }

        public Builder realm(String v) {
            realm = v;
            return this;
        }

        public Builder proxyAgent(String v) {
            proxyAgent = v;
            return this;
        }

        public HttpHandlerOptions build() {
            return new HttpHandlerOptions(authenticator, realm, proxyAgent, earlyReply);
        }
    }
}
