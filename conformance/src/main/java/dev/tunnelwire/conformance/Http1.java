package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * HTTP/1 messages at the level the fixtures compare them: start line, header list, optional body. Building a message
 * to send keeps the header order and spelling exactly as written; matching a received message compares header names
 * case-insensitively (unless {@code caseSensitiveNames}) and ignores order (unless {@code ordered}).
 */
public final class Http1 {

    /** A parsed message head. */
    public record Message(String startLine, String method, String target, String version, int status, String reason,
                   List<String[]> headers, byte[] body) {

        public List<String> values(String name, boolean caseSensitive) {
            List<String> out = new ArrayList<>();
            for (String[] h : headers) {
                if (caseSensitive ? h[0].equals(name) : h[0].equalsIgnoreCase(name)) {
                    out.add(h[1]);
                }
            }
            return out;
        }

        String describe() {
            StringBuilder sb = new StringBuilder(startLine).append("\\r\\n");
            for (String[] h : headers) {
                sb.append(h[0]).append(": ").append(h[1]).append("\\r\\n");
            }
            sb.append("\\r\\n");
            if (body != null && body.length > 0) {
                sb.append(PeerSocket.printable(body));
            }
            return sb.toString();
        }
    }

    private Http1() {
    }

    /** The bytes of a message described by a fixture's {@code http} object. */
    static byte[] build(JsonNode m, Values v) {
        StringBuilder sb = new StringBuilder();
        if (m.has("method")) {
            sb.append(v.interpolate(m.get("method").asText())).append(' ')
                    .append(v.interpolate(m.path("target").asText("/"))).append(' ')
                    .append(m.path("version").asText("HTTP/1.1"));
        } else {
            int status = m.path("status").asInt();
            sb.append(m.path("version").asText("HTTP/1.1")).append(' ').append(status);
            String reason = m.has("reason") ? m.get("reason").asText() : defaultReason(status);
            if (!reason.isEmpty()) {
                sb.append(' ').append(reason);
            }
        }
        sb.append("\r\n");
        for (String[] h : headerList(m.get("headers"), v)) {
            sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        byte[] body = m.has("body") ? v.bytes(m.get("body")) : new byte[0];
        if (m.path("contentLength").asBoolean(false)) {
            sb.append("Content-Length: ").append(body.length).append("\r\n");
        }
        sb.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** Headers to send: a list of {@code [name, value]} pairs (order kept) or an object. */
    static List<String[]> headerList(JsonNode headers, Values v) {
        List<String[]> out = new ArrayList<>();
        if (headers == null) {
            return out;
        }
        if (headers.isArray()) {
            for (JsonNode pair : headers) {
                out.add(new String[] {pair.get(0).asText(), v.text(pair.get(1))});
            }
        } else {
            for (Iterator<Map.Entry<String, JsonNode>> it = headers.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.add(new String[] {e.getKey(), v.text(e.getValue())});
            }
        }
        return out;
    }

    static String defaultReason(int status) {
        return switch (status) {
            case 101 -> "Switching Protocols";
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 407 -> "Proxy Authentication Required";
            case 426 -> "Upgrade Required";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "";
        };
    }

    /** Parses a head (without the final CRLF CRLF). */
    public static Message parseHead(byte[] head) {
        String s = new String(head, StandardCharsets.ISO_8859_1);
        String[] lines = s.split("\r\n", -1);
        String start = lines[0];
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            int c = lines[i].indexOf(':');
            if (c < 0) {
                headers.add(new String[] {lines[i], ""});
            } else {
                headers.add(new String[] {lines[i].substring(0, c), lines[i].substring(c + 1).trim()});
            }
        }
        String[] parts = start.split(" ", 3);
        if (start.startsWith("HTTP/")) {
            int status = -1;
            try {
                status = Integer.parseInt(parts.length > 1 ? parts[1] : "");
            } catch (NumberFormatException ignored) {
                // left -1
            }
            return new Message(start, null, null, parts[0], status, parts.length > 2 ? parts[2] : "", headers, null);
        }
        return new Message(start, parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : "", -1,
                null, headers, null);
    }

    static Message withBody(Message m, byte[] body) {
        return new Message(m.startLine(), m.method(), m.target(), m.version(), m.status(), m.reason(), m.headers(),
                body);
    }

    /** Compares {@code actual} against a fixture's {@code http} expectation; returns a problem or {@code null}. */
    static String match(JsonNode exp, Message actual, Values v) {
        if (exp.has("status")) {
            if (actual.status() < 0) {
                return "expected a response, got start line '" + actual.startLine() + "'";
            }
            if (!statusMatches(exp.get("status"), actual.status())) {
                return "status " + actual.status() + " is not " + exp.get("status");
            }
            if (exp.has("reason") && !exp.get("reason").asText().equals(actual.reason())) {
                return "reason phrase '" + actual.reason() + "' is not '" + exp.get("reason").asText() + "'";
            }
        }
        if (exp.has("method") && !v.interpolate(exp.get("method").asText()).equals(actual.method())) {
            return "method '" + actual.method() + "' is not '" + exp.get("method").asText() + "'";
        }
        if (exp.has("target")) {
            String p = Matchers.check(exp.get("target"), actual.target(), v, false);
            if (p != null) {
                return "request target: " + p;
            }
        }
        if (exp.has("version") && !exp.get("version").asText().equals(actual.version())) {
            return "version '" + actual.version() + "' is not '" + exp.get("version").asText() + "'";
        }
        boolean cs = exp.path("caseSensitiveNames").asBoolean(false);
        List<String> listed = new ArrayList<>();
        JsonNode headers = exp.get("headers");
        if (headers != null) {
            List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
            if (headers.isArray()) {
                for (JsonNode pair : headers) {
                    entries.add(Map.entry(pair.get(0).asText(), pair.get(1)));
                }
            } else {
                headers.fields().forEachRemaining(entries::add);
            }
            for (Map.Entry<String, JsonNode> e : entries) {
                String name = e.getKey();
                listed.add(name.toLowerCase(Locale.ROOT));
                List<String> vals = actual.values(name, cs);
                if (vals.isEmpty()) {
                    if (e.getValue().isObject() && e.getValue().has("optional")) {
                        continue;
                    }
                    return "header '" + name + "' is missing";
                }
                String problem = null;
                for (String val : vals) {
                    problem = Matchers.check(e.getValue(), val, v, true);
                    if (problem == null) {
                        break;
                    }
                }
                if (problem != null) {
                    return "header '" + name + "': " + problem;
                }
            }
        }
        for (JsonNode a : exp.path("absent")) {
            if (!actual.values(a.asText(), false).isEmpty()) {
                return "header '" + a.asText() + "' must be absent, got '" + actual.values(a.asText(), false).get(0)
                        + "'";
            }
        }
        if (exp.path("only").asBoolean(false)) {
            List<String> allowed = new ArrayList<>(listed);
            exp.path("allowed").forEach(a -> allowed.add(a.asText().toLowerCase(Locale.ROOT)));
            for (String[] h : actual.headers()) {
                if (!allowed.contains(h[0].toLowerCase(Locale.ROOT))) {
                    return "unexpected header '" + h[0] + ": " + h[1] + "' (only the listed ones are allowed)";
                }
            }
        }
        if (exp.has("ordered")) {
            int last = -1;
            for (JsonNode n : exp.get("ordered")) {
                int idx = -1;
                for (int i = 0; i < actual.headers().size(); i++) {
                    String have = actual.headers().get(i)[0];
                    if (cs ? have.equals(n.asText()) : have.equalsIgnoreCase(n.asText())) {
                        idx = i;
                        break;
                    }
                }
                if (idx < last) {
                    return "header '" + n.asText() + "' is out of the required order " + exp.get("ordered");
                }
                last = idx;
            }
        }
        if (exp.has("bodyMatch")) {
            String have = actual.body() == null ? "" : new String(actual.body(), StandardCharsets.UTF_8);
            String p = Matchers.check(exp.get("bodyMatch"), have, v, false);
            if (p != null) {
                return "body: " + p;
            }
        }
        if (exp.has("body")) {
            byte[] want = v.bytes(exp.get("body"));
            byte[] have = actual.body() == null ? new byte[0] : actual.body();
            if (!java.util.Arrays.equals(want, have)) {
                return "body '" + PeerSocket.printable(have) + "' is not '" + PeerSocket.printable(want) + "'";
            }
        }
        return null;
    }

    static boolean statusMatches(JsonNode exp, int status) {
        if (exp.isArray()) {
            for (JsonNode s : exp) {
                if (s.asInt() == status) {
                    return true;
                }
            }
            return false;
        }
        return exp.asInt() == status;
    }

    /** Value matchers shared by HTTP/1 headers, HTTP/2 headers and request targets. */
    static final class Matchers {
        private Matchers() {
        }

        /**
         * A matcher is a string (exact, after placeholders), or an object: {@code ci} (case-insensitive),
         * {@code regex} (whole value), {@code match} (a peer-varying value: its regex, its example ignored),
         * {@code capture} (stores the value in a placeholder), {@code present},
         * {@code oneOf} (list of matchers), {@code token} (a comma-separated list containing it, case-insensitive), {@code optional}
         * (absent, or present and matching the inner matcher),
         * or any data value (exact).
         */
        static String check(JsonNode m, String actual, Values v, boolean header) {
            if (m.isObject()) {
                if (m.has("ci")) {
                    String want = v.text(m.get("ci"));
                    return want.equalsIgnoreCase(actual) ? null : "'" + actual + "' is not '" + want + "' (any case)";
                }
                if (m.has("match")) {
                    // a peer-varying value: its rule decides, whatever its example
                    String re = v.interpolate(m.get("match").asText());
                    return Pattern.compile(re, Pattern.DOTALL).matcher(actual).matches() ? null
                            : "'" + actual + "' does not follow the rule /" + re + "/"
                            + (m.has("why") ? " (" + m.get("why").asText() + ")" : "");
                }
                if (m.has("regex")) {
                    String re = v.interpolate(m.get("regex").asText());
                    java.util.regex.Matcher rm = Pattern.compile(re, Pattern.DOTALL).matcher(actual);
                    if (!rm.matches()) {
                        return "'" + actual + "' does not match /" + re + "/";
                    }
                    if (m.has("capture")) {
                        v.put(m.get("capture").asText(), rm.groupCount() >= 1 ? rm.group(1) : actual);
                    }
                    return null;
                }
                if (m.has("capture")) {
                    v.put(m.get("capture").asText(), actual);
                    return null;
                }
                if (m.has("present")) {
                    return null;
                }
                if (m.has("optional")) {
                    return check(m.get("optional"), actual, v, header);
                }
                if (m.has("token")) {
                    String want = v.text(m.get("token")).trim();
                    for (String t : actual.split(",")) {
                        if (t.trim().equalsIgnoreCase(want)) {
                            return null;
                        }
                    }
                    return "'" + actual + "' has no token '" + want + "'";
                }
                if (m.has("oneOf")) {
                    List<String> problems = new ArrayList<>();
                    for (JsonNode alt : m.get("oneOf")) {
                        String p = check(alt, actual, v, header);
                        if (p == null) {
                            return null;
                        }
                        problems.add(p);
                    }
                    return String.join(" and ", problems);
                }
            }
            String want = v.text(m);
            return want.equals(actual) ? null : "'" + actual + "' is not '" + want + "'";
        }
    }
}
