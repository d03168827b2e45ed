package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One conformance case, as read from {@code fixtures/<transport>/<id>.json} (format: {@code fixtures/SCHEMA.md}).
 *
 * @param id          {@code <transport>.<role>.<case>}, snake_case, never renamed
 * @param transport   the transport or proxy protocol under test ({@code tcp}, {@code ws}, {@code vless}, ...)
 * @param role        the role of the implementation under test; the engine plays the other one
 * @param kind        {@code positive} or {@code negative}
 * @param title       one line
 * @param description what the case checks and why
 * @param source      provenance (written from a spec or recorded from a peer)
 * @param options     neutral options of the side under test (a JSON object, possibly empty)
 * @param vars        placeholders evaluated before the first step, in order (a JSON object, possibly empty)
 * @param timeoutMs   default time limit of each expectation
 * @param steps       the script
 * @param deviations  {@code peerDeviations}: reference peers documented to behave differently
 * @param file        where it was loaded from (for messages)
 */
public record Fixture(String id, String transport, Role role, String kind, String title, String description,
                      JsonNode source, ObjectNode options, ObjectNode vars, int timeoutMs, List<JsonNode> steps,
                      List<JsonNode> deviations, String file) {

    /** Which side the implementation under test plays. */
    public enum Role { CLIENT, SERVER }

    /** {@code transport.role.case}, each part lower snake_case. */
    public static final Pattern ID = Pattern.compile("([a-z][a-z0-9_]*)\\.(client|server)\\.([a-z0-9][a-z0-9_]*)");

    public static final int DEFAULT_TIMEOUT_MS = 3000;

    public Fixture {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(role, "role");
        steps = List.copyOf(steps);
        deviations = deviations == null ? List.of() : List.copyOf(deviations);
    }

    /**
     * The documented deviation of {@code peer} ("behaviour (evidence)"), or {@code null}. Deviations live in the
     * fixture's {@code peerDeviations}; {@link FixtureLoader} keeps them in {@link #deviations}.
     */
    public String deviation(String peer) {
        for (JsonNode d : deviations) {
            if (d.path("peer").asText().equalsIgnoreCase(peer)) {
                return d.path("behaviour").asText() + " (" + d.path("evidence").asText() + ")";
            }
        }
        return null;
    }

    public boolean negative() {
        return "negative".equals(kind);
    }
}
