package dev.tunnelwire.transport.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.netty.util.NetUtil;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Wire constants and pure functions of the V2Ray HTTP transport (peer-singbox.md §2; sing-box
 * {@code transport/v2rayhttp}).
 *
 * <pre>
 * HTTP/1.1 (cleartext client)                 HTTP/2 (TLS, or h2c prior knowledge)
 * C: PUT /path HTTP/1.1                       C: HEADERS :method PUT :path /path :scheme https
 *    Host: h                                             :authority h, headers  (no END_STREAM)
 *    headers...                               S: HEADERS :status 200 cache-control: no-store
 *    (blank line) + first payload             C: DATA...  (upstream)
 * S: HTTP/1.1 200 OK                          S: DATA...  (downstream)
 *    Cache-Control: no-store                  END_STREAM both ways closes; RST_STREAM(NO_ERROR) after
 *    (blank line)                             END_STREAM is a normal close
 * then raw bytes both ways; no body framing
 * </pre>
 */
final class HttpProtocol {

    /** The client connection preface of HTTP/2 (RFC 9113 §3.4): how the server recognises h2c and h2. */
    static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final AsciiString CACHE_CONTROL = AsciiString.cached("cache-control");
    static final AsciiString NO_STORE = AsciiString.cached("no-store");
    static final int MAX_INITIAL_LINE_LENGTH = 8192;
    /** Any status other than exactly this fails the client handshake (sing-box: {@code unexpected status}). */
    static final int OK = 200;

    private HttpProtocol() {
    }

    /**
     * The request target for {@code path}, escaped as Go's {@code url.URL.setPath} + {@code EscapedPath} do: the
     * path is treated as possibly already escaped, unescaped, and re-escaped with Go's path rules ({@code ?} and
     * {@code #} become {@code %3F}/{@code %23}); a valid already-escaped form is kept as given.
     *
     * @throws IllegalArgumentException on a malformed {@code %} escape
     */
    static String requestTarget(String path) {
        byte[] raw = unescape(path);
        String escaped = escape(raw);
        return escaped.equals(path) || validEncoded(path) ? path : escaped;
    }

    private static byte[] unescape(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == '%') {
                if (i + 2 >= in.length || Character.digit(in[i + 1], 16) < 0 || Character.digit(in[i + 2], 16) < 0) {
                    throw new IllegalArgumentException("invalid URL escape in path: " + s);
                }
                out.write(Character.digit(in[i + 1], 16) << 4 | Character.digit(in[i + 2], 16));
                i += 2;
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    /** Go's {@code shouldEscape(c, encodePath)}. */
    private static boolean shouldEscape(int c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return false;
        }
        switch (c) {
            case '-', '_', '.', '~', '$', '&', '+', ',', '/', ':', ';', '=', '@':
                return false;
            default:
                return true;
        }
    }

    private static String escape(byte[] raw) {
        StringBuilder sb = new StringBuilder(raw.length + 8);
        for (byte b : raw) {
            int c = b & 0xff;
            if (shouldEscape(c)) {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            } else {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    /** Go's {@code validEncoded(s, encodePath)}. */
    private static boolean validEncoded(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ("!$&'()*+,;=:@[]%".indexOf(c) >= 0) {
                continue;
            }
            if (c > 0x7f || shouldEscape(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The decoded path of a request target (query and fragment dropped), as Go's {@code URL.Path}; {@code null} when
     * the escapes are malformed. An absolute-form target ({@code http://host/path}) yields its path.
     */
    static String decodedPath(String target) {
        String t = target;
        int scheme = t.indexOf("://");
        if (scheme > 0 && t.charAt(0) != '/') {
            int slash = t.indexOf('/', scheme + 3);
            t = slash < 0 ? "/" : t.substring(slash);
        }
        int q = t.indexOf('?');
        if (q >= 0) {
            t = t.substring(0, q);
        }
        int h = t.indexOf('#');
        if (h >= 0) {
            t = t.substring(0, h);
        }
        try {
            return new String(unescape(t), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The authority of an absolute-form target, or {@code null}. */
    static String absoluteAuthority(String target) {
        int scheme = target.indexOf("://");
        if (scheme <= 0 || target.charAt(0) == '/') {
            return null;
        }
        int start = scheme + 3;
        int end = start;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        return target.substring(start, end);
    }

    /**
     * The server's checks in sing-box's order: host (400 when hosts are configured and {@code host} is not one of
     * them, compared exactly), path prefix on the decoded path (404), method when configured (404).
     *
     * @return {@code 0} to accept, else the status to answer with
     */
    static int validate(HttpOptions o, String host, String decodedPath, String method) {
        if (!o.hosts().isEmpty() && (host == null || !o.hosts().contains(host))) {
            return HttpResponseStatus.BAD_REQUEST.code();
        }
        if (decodedPath == null || !decodedPath.startsWith(o.path())) {
            return HttpResponseStatus.NOT_FOUND.code();
        }
        if (!o.method().isEmpty() && !o.method().equals(method)) {
            return HttpResponseStatus.NOT_FOUND.code();
        }
        return 0;
    }

    /** A random entry of {@code hosts}, or {@code fallback} when there is none. */
    static String pickHost(List<String> hosts, String fallback) {
        return switch (hosts.size()) {
            case 0 -> fallback;
            case 1 -> hosts.get(0);
            default -> hosts.get(ThreadLocalRandom.current().nextInt(hosts.size()));
        };
    }

    /** The server address without port (IPv6 unbracketed), as sing-box's {@code M.Socksaddr.AddrString}. */
    static String hostWithoutPort(InetSocketAddress server) {
        String h = server.getHostString();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (!server.isUnresolved() && server.getAddress() != null && NetUtil.isValidIpV6Address(h)) {
            h = NetUtil.toAddressString(server.getAddress());
        }
        return h;
    }

    /**
     * The HTTP/1.1 request head: request line, {@code Host} (unless a configured header of that name replaces it),
     * configured headers (values joined with {@code ", "}), blank line. No {@code Content-Length}, no chunking.
     */
    static ByteBuf requestHead(ByteBufAllocator alloc, HttpOptions o, String host) {
        StringBuilder sb = new StringBuilder(128);
        sb.append(o.clientMethod()).append(' ').append(requestTarget(o.path())).append(" HTTP/1.1\r\n");
        boolean hostConfigured = o.headers().keySet().stream().anyMatch(k -> k.equalsIgnoreCase("host"));
        if (!hostConfigured) {
            sb.append("Host: ").append(host).append("\r\n");
        }
        for (Map.Entry<String, List<String>> e : o.headers().entrySet()) {
            sb.append(e.getKey()).append(": ").append(String.join(", ", e.getValue())).append("\r\n");
        }
        sb.append("\r\n");
        byte[] bytes = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        return alloc.buffer(bytes.length).writeBytes(bytes);
    }

    /** The HTTP/2 request HEADERS of a client tunnel. */
    static Http2Headers requestHeaders(HttpOptions o, String authority) {
        Http2Headers h = new DefaultHttp2Headers()
                .method(o.clientMethod())
                .path(requestTarget(o.path()))
                .scheme("https")
                .authority(authority);
        for (Map.Entry<String, List<String>> e : o.headers().entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (name.equals("host")) {
                continue; // carried by :authority
            }
            for (String v : e.getValue()) {
                h.add(name, v);
            }
        }
        return h;
    }

    /**
     * The headers of the server's {@code 200}: {@code Cache-Control: no-store} and the configured headers (one value
     * each, the last configured, as Go's {@code Header.Set}), sorted by name as Go writes them, then {@code Date}.
     */
    static HttpHeaders responseHeaders(HttpOptions o) {
        TreeMap<String, String> sorted = new TreeMap<>();
        sorted.put("Cache-Control", "no-store");
        for (Map.Entry<String, List<String>> e : o.headers().entrySet()) {
            String canonical = canonicalKey(e.getKey());
            sorted.remove(canonical);
            sorted.put(canonical, e.getValue().get(e.getValue().size() - 1));
        }
        HttpHeaders h = new DefaultHttpHeaders();
        sorted.forEach(h::set);
        h.set("Date", DateFormatter.format(new Date()));
        return h;
    }

    /** The same as {@link #responseHeaders} for HTTP/2 (lower-case names), with {@code :status 200}. */
    static Http2Headers responseHeaders2(HttpOptions o) {
        Http2Headers h = new DefaultHttp2Headers().status(HttpResponseStatus.OK.codeAsText());
        responseHeaders(o).forEach(e -> h.set(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
        return h;
    }

    /** Go's {@code textproto.CanonicalMIMEHeaderKey} for token names: {@code x-custom} becomes {@code X-Custom}. */
    static String canonicalKey(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        boolean upper = true;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == ' ') {
                return name;
            }
            sb.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
            upper = c == '-';
        }
        return sb.toString();
    }
}
