package dev.tunnelwire;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * TLS settings of a dialer.
 *
 * <p>Hostname verification is on: the server certificate must be valid for {@code serverName} (or, when that is
 * {@code null}, for the host the dialer connects to). {@code insecure} turns off certificate and hostname
 * verification altogether; it exists because gost clients and many test setups never verify, and must be asked for
 * explicitly.
 *
 * @param serverName    SNI and verification name; {@code null} means the dialed host (SNI is not sent for IP
 *                      addresses, as in Go)
 * @param alpn          ALPN protocols to offer; empty means the transport's default (e.g. {@code h2} for HTTP/2
 *                      transports, {@code http/1.1} for WebSocket)
 * @param insecure      accept any certificate for any name
 * @param trusted       extra trusted CA certificates (in addition to {@code caFile}); when both are empty the JDK's
 *                      default trust store is used
 * @param caFile        a PEM file of trusted CA certificates, or {@code null}
 * @param certFile      client certificate chain (PEM) for mutual TLS, or {@code null}
 * @param keyFile       client private key (PEM, PKCS#8), or {@code null}
 * @param provider      TLS implementation
 */
public record TlsClientOptions(String serverName, List<String> alpn, boolean insecure, List<X509Certificate> trusted,
                               Path caFile, Path certFile, Path keyFile, TlsProvider provider) {

    public TlsClientOptions {
        alpn = List.copyOf(Objects.requireNonNullElse(alpn, List.of()));
        trusted = List.copyOf(Objects.requireNonNullElse(trusted, List.of()));
        provider = Objects.requireNonNullElse(provider, TlsProvider.DEFAULT);
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("certFile and keyFile must be given together");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().serverName(serverName).alpn(alpn).insecure(insecure).trusted(trusted).caFile(caFile)
                .clientCertificate(certFile, keyFile).provider(provider);
    }

    /** A copy whose ALPN list is {@code defaults} when this one has none. */
    public TlsClientOptions withDefaultAlpn(List<String> defaults) {
        return alpn.isEmpty() ? toBuilder().alpn(defaults).build() : this;
    }

    public static final class Builder {
        private String serverName;
        private List<String> alpn = List.of();
        private boolean insecure;
        private List<X509Certificate> trusted = List.of();
        private Path caFile;
        private Path certFile;
        private Path keyFile;
        private TlsProvider provider = TlsProvider.DEFAULT;

        public Builder serverName(String v) {
            serverName = v;
            return this;
        }

        public Builder alpn(List<String> v) {
            alpn = v;
            return this;
        }

        public Builder alpn(String... v) {
            alpn = List.of(v);
            return this;
        }

        public Builder insecure(boolean v) {
            insecure = v;
            return this;
        }

        public Builder trusted(List<X509Certificate> v) {
            trusted = v;
            return this;
        }

        public Builder trust(X509Certificate... v) {
            trusted = List.of(v);
            return this;
        }

        public Builder caFile(Path v) {
            caFile = v;
            return this;
        }

        public Builder clientCertificate(Path cert, Path key) {
            certFile = cert;
            keyFile = key;
            return this;
        }

        public Builder provider(TlsProvider v) {
            provider = v;
            return this;
        }

        public TlsClientOptions build() {
            return new TlsClientOptions(serverName, alpn, insecure, trusted, caFile, certFile, keyFile, provider);
        }
    }
}
