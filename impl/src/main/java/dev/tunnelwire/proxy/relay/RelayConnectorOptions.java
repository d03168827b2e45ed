package dev.tunnelwire.proxy.relay;

/**
 * Options of the GOST relay client.
 *
 * @param user     user name for the UserAuth feature, or {@code null} (default) for none
 * @param password password for the UserAuth feature (empty when {@code null})
 * @param nodelay  wait for the server's response before sending data (default {@value #DEFAULT_NODELAY}: send the
 *                 request together with the first data and check the response lazily, as gost does)
 */
public record RelayConnectorOptions(String user, String password, boolean nodelay) {

    public static final boolean DEFAULT_NODELAY = false;

    public RelayConnectorOptions {
        if (user == null && password != null) {
            throw new IllegalArgumentException("password without user");
        }
    }

    public static RelayConnectorOptions defaults() {
        return new RelayConnectorOptions(null, null, DEFAULT_NODELAY);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().user(user).password(password).nodelay(nodelay);
    }

    @Override
    public String toString() {
        return "RelayConnectorOptions[user=" + user + ", password=" + (password == null ? null : "***")
                + ", nodelay=" + nodelay + "]";
    }

    public static final class Builder {
        private String user;
        private String password;
        private boolean nodelay = DEFAULT_NODELAY;

        public Builder user(String v) {
            user = v;
            return this;
        }

        public Builder password(String v) {
            password = v;
            return this;
        }

        public Builder nodelay(boolean v) {
            nodelay = v;
            return this;
        }

        public RelayConnectorOptions build() {
            return new RelayConnectorOptions(user, password, nodelay);
        }
    }
}
