package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.regex.Pattern;

import static dev.tunnelwire.interop.Role.F;

/**
 * The header values that a peer derives from the date, the machine or chance rather than from its protocol, and the
 * rule each is written as in a recorded fixture ({@code {"match": regex, "example": value, "why": source}},
 * {@code fixtures/SCHEMA.md} §4 "Peer-varying values").
 *
 * <p>A recorded value that follows its header's rule is written as the rule with the recorded value as its example; a
 * value that does not follow it stays a literal, so a peer that starts sending something else altogether shows up
 * as a difference when {@link RecordedFixturesIT} re-records. Values that only change with a peer's pinned version
 * (gost's {@code Proxy-Agent: gost/3.0}, Go's {@code Go-http-client/1.1}) stay literals: a peer bump is re-recorded
 * on purpose.
 */
final class PeerVaryingValues {

    /** One rule: a header (name case-insensitive), the whole-value regex, and where the value comes from. */
    record Rule(String header, String match, String why) {
        boolean applies(String name, String value) {
            return header.equalsIgnoreCase(name) && Pattern.compile(match, Pattern.DOTALL).matcher(value).matches();
        }
    }

    private static final String BRAND = "\"(?:Chromium|Google Chrome|Not.A.Brand)\";v=\"[0-9]+\"";

    static final List<Rule> RULES = List.of(
            new Rule("User-Agent",
                    "Mozilla/5\\.0 \\(Windows NT 10\\.0; Win64; x64\\) AppleWebKit/537\\.36 \\(KHTML, like Gecko\\) "
                            + "Chrome/[0-9]+\\.0\\.0\\.0 Safari/537\\.36",
                    "Xray common/utils/browser.go: the Chrome major follows the date (one release every 25-45 days "
                            + "since 2026-01-13, drawn by a PRNG seeded with CPU features)"),
            new Rule("Sec-CH-UA", BRAND + "(?:, " + BRAND + "){2}",
                    "Xray common/utils/browser.go: the Chrome major of the User-Agent, a GREASE brand and the order "
                            + "of the three brands all derive from it"),
            new Rule("User-Agent", "grpc-go/[0-9]+\\.[0-9]+\\.[0-9]+(?:-dev)?",
                    "the grpc-go version of the peer's build (go.mod), not protocol behaviour"));

    private PeerVaryingValues() {
    }

    /** The rule for a recorded header value, or {@code null} when the value is protocol behaviour. */
    static Rule ruleFor(String name, String value) {
        for (Rule r : RULES) {
            if (r.applies(name, value)) {
                return r;
            }
        }
        return null;
    }

    /** A recorded header value as a fixture writes it: its rule with the value as example, or the literal. */
    static JsonNode headerValue(String name, String value) {
        Rule r = ruleFor(name, value);
        if (r == null) {
            return F.textNode(value);
        }
        ObjectNode o = F.objectNode();
        o.put("match", r.match()).put("example", value).put("why", r.why());
        return o;
    }

    /**
     * A copy of a fixture in which every peer-varying value is reduced to its rule: the {@code example} is dropped
     * when it follows the rule, and kept (so the comparison fails and shows it) when it does not. Two recordings of
     * the same behaviour on different days or machines reduce to the same document.
     */
    static JsonNode reduced(JsonNode n) {
        JsonNode copy = n.deepCopy();
        reduceInPlace(copy);
        return copy;
    }

    private static void reduceInPlace(JsonNode n) {
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            if (o.has("match") && o.path("match").isTextual() && o.path("example").isTextual()
                    && Pattern.compile(o.get("match").asText(), Pattern.DOTALL).matcher(o.get("example").asText())
                    .matches()) {
                o.remove("example");
            }
            o.elements().forEachRemaining(PeerVaryingValues::reduceInPlace);
        } else if (n.isArray()) {
            n.elements().forEachRemaining(PeerVaryingValues::reduceInPlace);
        }
    }
}
