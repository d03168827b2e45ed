package dev.tunnelwire;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * TLS settings of a listener: the certificate from PEM files, a keystore, or objects in memory (exactly one source).
 *
 * @param certChain        certificate chain in memory (leaf first), with {@code key}
 * @param key              private key in memory
 * @param certFile         certificate chain PEM file, with {@code keyFile}
 * @param keyFile          private key PEM file (PKCS#8; PKCS#1 and SEC1 with the OpenSSL provider)
 * @param keyPassword      password of an encrypted PEM key, or {@code null}
 * @param keyStoreFile     a PKCS#12 or JKS keystore holding one key entry
 * @param keyStorePassword the keystore (and key) password
 * @param alpn             ALPN protocols to accept, in preference order; empty means the transport's default
 * @param provider         TLS implementation
 */
public record TlsServerOptions(List<X509Certificate> certChain, PrivateKey key, Path certFile, Path keyFile,
                               String keyPassword, Path keyStoreFile, String keyStorePassword, List<String> alpn,
                               TlsProvider provider) {

    public TlsServerOptions {
        certChain = List.copyOf(Objects.requireNonNullElse(certChain, List.of()));
        alpn = List.copyOf(Objects.requireNonNullElse(alpn, List.of()));
        provider = Objects.requireNonNullElse(provider, TlsProvider.DEFAULT);
        int sources = (key != null ? 1 : 0) + (keyFile != null ? 1 : 0) + (keyStoreFile != null ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException(
                    "exactly one certificate source is required: in-memory key, PEM files or keystore");
        }
        if (key != null && certChain.isEmpty()) {
            throw new IllegalArgumentException("certChain is required with an in-memory key");
        }
        if (keyFile != null && certFile == null) {
            throw new IllegalArgumentException("certFile is required with keyFile");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.certChain = certChain;
        b.key = key;
        b.certFile = certFile;
        b.keyFile = keyFile;
        b.keyPassword = keyPassword;
        b.keyStoreFile = keyStoreFile;
        b.keyStorePassword = keyStorePassword;
        b.alpn = alpn;
        b.provider = provider;
        return b;
    }

    /** A copy whose ALPN list is {@code defaults} when this one has none. */
    public TlsServerOptions withDefaultAlpn(List<String> defaults) {
        return alpn.isEmpty() ? toBuilder().alpn(defaults).build() : this;
    }

    public static final class Builder {
        private List<X509Certificate> certChain = List.of();
        private PrivateKey key;
        private Path certFile;
        private Path keyFile;
        private String keyPassword;
        private Path keyStoreFile;
        private String keyStorePassword;
        private List<String> alpn = List.of();
        private TlsProvider provider = TlsProvider.DEFAULT;

        public Builder keyAndChain(PrivateKey key, X509Certificate... chain) {
            this.key = key;
            this.certChain = List.of(chain);
            return this;
        }

        public Builder pemFiles(Path certFile, Path keyFile) {
            this.certFile = certFile;
            this.keyFile = keyFile;
            return this;
        }

        public Builder keyPassword(String v) {
            keyPassword = v;
            return this;
        }

        public Builder keyStore(Path file, String password) {
            keyStoreFile = file;
            keyStorePassword = password;
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

        public Builder provider(TlsProvider v) {
            provider = v;
            return this;
        }

        public TlsServerOptions build() {
            return new TlsServerOptions(certChain, key, certFile, keyFile, keyPassword, keyStoreFile,
                    keyStorePassword, alpn, provider);
        }
    }
}
