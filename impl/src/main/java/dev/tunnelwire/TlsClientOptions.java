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
 * @param pinnedSha256  SHA-256 fingerprints of accepted server (leaf) certificates, as lower-case hex without
 *                      separators (colons and upper case are normalised away); when non-empty, a server whose
 *                      leaf certificate matches one of them is accepted without CA or hostname verification, any
 *                      other is rejected (Xray's {@code pinnedPeerCertSha256} for a pinned leaf). Default empty.
 */
public record TlsClientOptions(String serverName, List<String> alpn, boolean insecure, List<X509Certificate> trusted,
                               Path caFile, Path certFile, Path keyFile, TlsProvider provider,
                               List<String> pinnedSha256) {

    public TlsClientOptions {
        alpn = List.copyOf(Objects.requireNonNullElse(alpn, List.of()));
        trusted = List.copyOf(Objects.requireNonNullElse(trusted, List.of()));
        provider = Objects.requireNonNullElse(provider, TlsProvider.DEFAULT);
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("certFile and keyFile must be given together");
        }
        List<String> pins = new java.util.ArrayList<>();
        for (String pin : Objects.requireNonNullElse(pinnedSha256, List.<String>of())) {
            String hex = Objects.requireNonNull(pin, "pin").replace(":", "").strip()
                    .toLowerCase(java.util.Locale.ROOT);
            if (!hex.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("a pinned SHA-256 fingerprint must be 32 bytes of hex: " + pin);
            }
            pins.add(hex);
        }
        pinnedSha256 = List.copyOf(pins);
        if (insecure && !pinnedSha256.isEmpty()) {
            throw new IllegalArgumentException("insecure and pinned certificates exclude each other");
        }
    }

    /** The options without pinned certificates (the constructor before {@code pinnedSha256} existed). */
    public TlsClientOptions(String serverName, List<String> alpn, boolean insecure, List<X509Certificate> trusted,
                            Path caFile, Path certFile, Path keyFile, TlsProvider provider) {
        this(serverName, alpn, insecure, trusted, caFile, certFile, keyFile, provider, List.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().serverName(serverName).alpn(alpn).insecure(insecure).trusted(trusted).caFile(caFile)
                .clientCertificate(certFile, keyFile).provider(provider).pinnedSha256(pinnedSha256);
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
        private List<String> pinnedSha256 = List.of();

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

        /** SHA-256 fingerprints (hex, colons allowed) of accepted server leaf certificates. */
        public Builder pinnedSha256(List<String> v) {
            pinnedSha256 = v;
            return this;
        }

        public TlsClientOptions build() {
            return new TlsClientOptions(serverName, alpn, insecure, trusted, caFile, certFile, keyFile, provider,
                    pinnedSha256);
        }
    }
}
