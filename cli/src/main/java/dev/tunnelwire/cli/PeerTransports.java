package dev.tunnelwire.cli;

import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.cli.ConfigTree.Obj;
import dev.tunnelwire.cli.ConfigTree.Value;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The V2Ray-family transport objects of the peers, read with the peers' field names and semantics and turned into our
 * transport and TLS options by {@link SingBoxTransports} and {@link XrayStreamSettings}; this class holds the rules
 * both share (certificates and keys, header maps, Go durations, TLS versions, building options with positioned
 * errors):
 * <ul>
 *   <li>sing-box v1.13.2 {@code transport} ({@code option/v2ray_transport.go}: {@code type} {@code http}, {@code ws},
 *       {@code httpupgrade}, {@code grpc}) with its sibling {@code tls} ({@code option/tls.go}: inbound fields on a
 *       listener, outbound fields on a dialer);</li>
 *   <li>Xray-core v26.7.28 {@code streamSettings} ({@code infra/conf/transport_internet.go}: {@code network} raw/tcp,
 *       ws, httpupgrade, grpc; {@code security} none/tls; {@code wsSettings}, {@code httpupgradeSettings},
 *       {@code grpcSettings}, {@code tlsSettings}).</li>
 * </ul>
 * A field of the peer that has no equivalent here (REALITY, uTLS fingerprints, ECH, {@code sockopt}, XHTTP, ...) is an
 * error naming it, unless it holds the peer's "off" value; so is a field that the peer accepts but ignores on that
 * side (e.g. {@code headers} on a server). Nothing is silently dropped.
 */
final class PeerTransports {

    static final String SING_BOX = "sing-box";
    static final String XRAY = "xray";

    private PeerTransports() {
    }

    /**
     * TLS versions: the JDK stack negotiates TLS 1.2 and 1.3, as Go does by default; a configured bound that says
     * the same is accepted, any other is an error (we cannot honour it).
     */
    static void checkVersions(Obj t, String minKey, String maxKey) {
        String min = t.string(minKey);
        if (min != null && !min.isEmpty() && !min.equals("1.2")) {
            throw t.get(minKey).error("not supported by tunnelwire: only \"1.2\" (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
        String max = t.string(maxKey);
        if (max != null && !max.isEmpty() && !max.equals("1.3")) {
            throw t.get(maxKey).error("not supported by tunnelwire: only \"1.3\" (TLS 1.2 and 1.3 are "
                    + "negotiated)");
        }
    }

    /** Server certificate and key, each from a file or inline PEM (exactly one source each). */
    static TlsServerOptions serverCertificate(Obj t, String certPem, String certFile, String keyPem,
                                              String keyFile, String certKey, String keyKey,
                                              String certFileKey, String keyFileKey) {
        boolean hasCertFile = certFile != null && !certFile.isEmpty();
        boolean hasKeyFile = keyFile != null && !keyFile.isEmpty();
        if (hasCertFile == (certPem != null)) {
            throw t.error("give exactly one of " + certFileKey + " and " + certKey);
        }
        if (hasKeyFile == (keyPem != null)) {
            throw t.error("give exactly one of " + keyFileKey + " and " + keyKey);
        }
        if (hasCertFile && hasKeyFile) {
            return TlsServerOptions.builder().pemFiles(existing(t.get(certFileKey), certFile),
                    existing(t.get(keyFileKey), keyFile)).build();
        }
        try {
            String certText = hasCertFile ? Files.readString(existing(t.get(certFileKey), certFile)) : certPem;
            String keyText = hasKeyFile ? Files.readString(existing(t.get(keyFileKey), keyFile)) : keyPem;
            Value certAt = t.get(hasCertFile ? certFileKey : certKey);
            Value keyAt = t.get(hasKeyFile ? keyFileKey : keyKey);
            List<X509Certificate> chain = certificates(certAt, certText);
            PrivateKey key = privateKey(keyAt, keyText);
            return TlsServerOptions.builder().keyAndChain(key, chain.toArray(new X509Certificate[0])).build();
        } catch (IOException e) {
            throw t.error("cannot read the certificate or key: " + e.getMessage());
        }
    }

    static Path existing(Value at, String file) {
        Path p = Path.of(file);
        if (!Files.isReadable(p)) {
            throw at.error("cannot read file " + file);
        }
        return p;
    }

    static List<X509Certificate> certificates(Value at, String pem) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw at.error("no PEM certificate found");
            }
            return out;
        } catch (CertificateException e) {
            throw at.error("not a PEM certificate: " + e.getMessage());
        }
    }

    static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** An unencrypted PKCS#8 PEM key (RSA, EC, Ed25519). */
    static PrivateKey privateKey(Value at, String pem) {
        Matcher m = PKCS8.matcher(pem);
        if (!m.find()) {
            throw at.error("an inline key must be an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY); other formats "
                    + "work from a key file");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        for (String alg : new String[] {"EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (Exception e) {
                // try the next algorithm
            }
        }
        throw at.error("unsupported private key algorithm");
    }

    /** Headers of {@code string -> string} (Xray) or {@code string -> string|[string]} (sing-box, one value). */
    static Map<String, String> singleHeaders(Obj t, String key, boolean canonical) {
        Map<String, String> out = new LinkedHashMap<>();
        Obj h = t.obj(key);
        if (h == null) {
            return out;
        }
        for (String name : h.keys()) {
            List<String> values = h.listable(name);
            if (values == null || values.size() != 1) {
                throw h.get(name) == null ? h.error(name + ": needs a value")
                        : h.get(name).error("not supported by tunnelwire: exactly one value per header");
            }
            out.put(canonical ? canonicalHeader(name) : name, values.get(0));
        }
        h.end();
        return out;
    }

    static void noServerHeaders(Obj t, Map<String, String> headers, String why) {
        if (!headers.isEmpty()) {
            throw t.get("headers").keyError("has no effect on a listener (" + why + ")");
        }
    }

    /** Go's {@code textproto.CanonicalMIMEHeaderKey}: {@code x-my-header} becomes {@code X-My-Header}. */
    static String canonicalHeader(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean token = c > ' ' && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
            if (!token || c == ' ') {
                return name; // Go leaves invalid keys unchanged
            }
        }
        StringBuilder sb = new StringBuilder(name.length());
        boolean upper = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
            upper = c == '-';
        }
        return sb.toString();
    }

    static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    static long orZero(Long v) {
        return v == null ? 0 : v;
    }

    /** Go's {@code time.ParseDuration} (plus {@code d}, as sing's): {@code "1h2m3.5s"}, {@code "300ms"}, {@code "0"}. */
    static Duration goDuration(Obj t, String key) {
        String s = t.string(key);
        if (s == null) {
            return null;
        }
        Duration d = parseGoDuration(s);
        if (d == null) {
            throw t.get(key).error("invalid duration '" + s + "' (Go syntax, e.g. \"15s\", \"1m30s\")");
        }
        if (d.isNegative()) {
            throw t.get(key).error("must not be negative");
        }
        return d;
    }

    static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h|d)");

    static Duration parseGoDuration(String s) {
        String r = s.trim();
        boolean negative = false;
        if (r.startsWith("-") || r.startsWith("+")) {
            negative = r.startsWith("-");
            r = r.substring(1);
        }
        if (r.equals("0")) {
            return Duration.ZERO;
        }
        if (r.isEmpty()) {
            return null;
        }
        Matcher m = DURATION_PART.matcher(r);
        long nanos = 0;
        int pos = 0;
        while (pos < r.length()) {
            if (!m.find(pos) || m.start() != pos) {
                return null;
            }
            double n = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            nanos += (long) (n * unit);
            pos = m.end();
        }
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /** Runs an options builder; its validation error is reported at the object. */
    static <T> T build(Obj at, Supplier<T> builder) {
        try {
            return builder.get();
        } catch (IllegalArgumentException e) {
            if (e instanceof ConfigTree.ConfigException) {
                throw e;
            }
            throw at.error(e.getMessage());
        }
    }
}
