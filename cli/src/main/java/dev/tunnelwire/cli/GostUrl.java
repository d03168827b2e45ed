package dev.tunnelwire.cli;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One gost command-line URL, split into its parts (gost {@code x/config/cmd}):
 * {@code [scheme1[+scheme2]://][user:pass@][host]:port[/target1,target2...][?k=v&...]}.
 *
 * <ul>
 *   <li>No {@code ://} (or a leading {@code :}) means {@code auto://}.</li>
 *   <li>{@code https} is {@code http+tls}.</li>
 *   <li>{@code ?auth=base64(user:pass)} overrides {@code user:pass@}.</li>
 *   <li>Query keys are kept as written; gost treats them case-insensitively, and so does {@link #param}.</li>
 * </ul>
 *
 * @param first     the first scheme (handler for {@code -L}, connector for {@code -F}), lower case
 * @param second    the second scheme (listener / dialer), or {@code null} when only one was given
 * @param user      user name, or {@code null}
 * @param password  password, or {@code null}
 * @param host      host ({@code ""} for all interfaces)
 * @param port      port
 * @param targets   forward targets from the path, {@code host:port} each
 * @param params    query parameters in order
 * @param raw       the URL as given
 */
record GostUrl(String first, String second, String user, String password, String host, int port,
               List<String> targets, Map<String, String> params, String raw) {

    static GostUrl parse(String s) {
        String raw = s;
        String rest = s.trim();
        String schemes = "auto";
        int sep = rest.indexOf("://");
        if (sep >= 0) {
            schemes = rest.substring(0, sep).toLowerCase(Locale.ROOT);
            rest = rest.substring(sep + 3);
        }
        String first;
        String second = null;
        int plus = schemes.indexOf('+');
        if (plus >= 0) {
            first = schemes.substring(0, plus);
            second = schemes.substring(plus + 1);
        } else {
            first = schemes;
        }
        if (first.equals("https") && second == null) {
            first = "http";
            second = "tls";
        }
        Map<String, String> params = new LinkedHashMap<>();
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (String kv : rest.substring(q + 1).split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                String k = decode(eq < 0 ? kv : kv.substring(0, eq));
                String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
                params.put(k, v);
            }
            rest = rest.substring(0, q);
        }
        List<String> targets = new ArrayList<>();
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            for (String t : rest.substring(slash + 1).split(",")) {
                if (!t.isBlank()) {
                    targets.add(t.trim());
                }
            }
            rest = rest.substring(0, slash);
        }
        String user = null;
        String password = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String ui = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = ui.indexOf(':');
            user = decode(colon < 0 ? ui : ui.substring(0, colon));
            password = colon < 0 ? null : decode(ui.substring(colon + 1));
        }
        String auth = null;
        for (var e : params.entrySet()) {
            if (e.getKey().equalsIgnoreCase("auth")) {
                auth = e.getValue();
            }
        }
        if (auth != null) {
            params.keySet().removeIf(k -> k.equalsIgnoreCase("auth"));
            String ui = new String(Base64.getDecoder().decode(auth), StandardCharsets.UTF_8);
            int colon = ui.indexOf(':');
            user = colon < 0 ? ui : ui.substring(0, colon);
            password = colon < 0 ? null : ui.substring(colon + 1);
        }
        String host;
        int port;
        if (rest.startsWith("[")) {
            int end = rest.indexOf(']');
            if (end < 0) {
                throw new IllegalArgumentException("unterminated IPv6 address in '" + raw + "'");
            }
            host = rest.substring(1, end);
            rest = rest.substring(end + 1);
            if (!rest.startsWith(":")) {
                throw new IllegalArgumentException("missing port in '" + raw + "'");
            }
            port = port(rest.substring(1), raw);
        } else {
            int colon = rest.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing port in '" + raw + "' (expected [host]:port)");
            }
            host = rest.substring(0, colon);
            port = port(rest.substring(colon + 1), raw);
        }
        return new GostUrl(first, second, user, password, host, port, List.copyOf(targets), params, raw);
    }

    private static int port(String p, String raw) {
        try {
            int v = Integer.parseInt(p);
            if (v < 0 || v > 65535) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port '" + p + "' in '" + raw + "'");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** A parameter by name, case-insensitively, or {@code null}. */
    String param(String name) {
        for (var e : params.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** {@code host:port} for binding or dialing ({@code ""} host means all interfaces). */
    String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
