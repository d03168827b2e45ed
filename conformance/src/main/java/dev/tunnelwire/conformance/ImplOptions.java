package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Maps a fixture's neutral options (SCHEMA.md, "Options") to tunnelwire's option parameters, which each
 * {@link dev.tunnelwire.TransportProvider#parse} turns into its options record (so an unknown neutral key fails the
 * case loudly instead of being ignored). The neutral names are those of the {@code options} tables in SCHEMA.md;
 * where our parameter name differs, {@link #RENAMES} says so. {@code headers} becomes {@code header.<Name>} entries;
 * the {@code listener} and {@code dialer} groups are not transport options (see {@link #listener}/{@link #dialer}).
 */
final class ImplOptions {

    /** transport -> neutral name -> tunnelwire parameter name, where they differ. */
    static final Map<String, Map<String, String>> RENAMES = Map.of();

    private ImplOptions() {
    }

    static Map<String, String> params(Fixture f) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> renames = RENAMES.getOrDefault(f.transport(), Map.of());
        for (Iterator<Map.Entry<String, JsonNode>> it = f.options().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String k = e.getKey();
            if (k.equals("listener") || k.equals("dialer")) {
                continue;
            }
            if (k.equals("headers") && e.getValue().isObject()) {
                e.getValue().fields().forEachRemaining(h -> out.put("header." + h.getKey(), h.getValue().asText()));
                continue;
            }
            out.put(renames.getOrDefault(k, k), e.getValue().isTextual() ? e.getValue().asText()
                    : e.getValue().toString());
        }
        return out;
    }

    static JsonNode listener(Fixture f) {
        return f.options().path("listener");
    }

    static JsonNode dialer(Fixture f) {
        return f.options().path("dialer");
    }
}
