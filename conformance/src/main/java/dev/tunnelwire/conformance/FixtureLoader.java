package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Loads and checks fixtures, from a directory laid out as {@code <dir>/<transport>/<id>.json} or from the class path
 * ({@code tunnelwire-fixtures/}, the {@code tunnelwire-fixtures} jar). Every structural problem (bad id, file name
 * not matching the id, transport directory not matching, duplicate id, unknown step op, unknown top-level key) is an
 * {@link IllegalArgumentException} naming the file: a broken fixture must never be silently dropped.
 */
public final class FixtureLoader {

    /** The class-path directory the {@code fixtures} module packages its files under. */
    public static final String CLASSPATH_ROOT = "tunnelwire-fixtures";

    static final Set<String> TOP_LEVEL = Set.of("$schema", "id", "transport", "role", "kind", "title", "description",
            "source", "options", "vars", "timeoutMs", "steps", "peerDeviations");
    static final Set<String> OPS = Set.of("send", "expect", "expect_reject", "expect_close", "expect_silence",
            "expect_open", "expect_open_fails", "expect_tunnel", "expect_no_tunnel", "expect_deliver",
            "expect_app_eof", "expect_app_closed", "app_open", "app_write", "app_shutdown_output", "app_close",
            "accept", "shutdown_output", "close", "reset", "sleep");

    private static final ObjectMapper JSON = new ObjectMapper();

    private FixtureLoader() {
    }

    /** Every fixture under {@code dir}, sorted by id. Fails if the directory is missing. */
    public static List<Fixture> load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("fixtures directory not found: " + dir.toAbsolutePath());
        }
        List<Fixture> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir, 2)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".json"))
                    .filter(p -> dir.relativize(p).getNameCount() == 2)::iterator) {
                try (InputStream in = Files.newInputStream(f)) {
                    out.add(parse(JSON.readTree(in), f.getParent().getFileName().toString(),
                            f.getFileName().toString(), dir.relativize(f).toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return finish(out);
    }

    /** Every fixture packaged on the class path under {@value #CLASSPATH_ROOT}/. Fails if there is none. */
    public static List<Fixture> loadFromClassPath() {
        URL marker = FixtureLoader.class.getClassLoader().getResource(CLASSPATH_ROOT + "/SCHEMA.md");
        if (marker == null) {
            throw new IllegalStateException("no " + CLASSPATH_ROOT + "/SCHEMA.md on the class path: is the "
                    + "tunnelwire-fixtures jar (or fixtures/target/classes) missing?");
        }
        try {
            URI uri = marker.toURI();
            if ("jar".equals(uri.getScheme())) {
                FileSystem fs;
                try {
                    fs = FileSystems.getFileSystem(uri);
                } catch (FileSystemNotFoundException e) {
                    fs = FileSystems.newFileSystem(uri, Map.of());
                }
                return load(fs.getPath("/" + CLASSPATH_ROOT));
            }
            return load(Path.of(uri).getParent());
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot read fixtures from " + marker, e);
        }
    }

    /** Parses one fixture document; {@code dirName}/{@code fileName} are checked against its id when non-null. */
    public static Fixture parse(JsonNode n, String dirName, String fileName, String where) {
        if (!n.isObject()) {
            throw bad(where, "not a JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TOP_LEVEL.contains(k)) {
                throw bad(where, "unknown key '" + k + "'");
            }
        }
        String id = text(n, "id", where);
        var m = Fixture.ID.matcher(id);
        if (!m.matches()) {
            throw bad(where, "id '" + id + "' is not <transport>.<client|server>.<snake_case>");
        }
        String transport = text(n, "transport", where);
        String role = text(n, "role", where);
        if (!m.group(1).equals(transport) || !m.group(2).equals(role)) {
            throw bad(where, "id '" + id + "' disagrees with transport/role");
        }
        if (dirName != null && !dirName.equals(transport)) {
            throw bad(where, "fixture of transport '" + transport + "' is in directory '" + dirName + "'");
        }
        if (fileName != null && !fileName.equals(id + ".json")) {
            throw bad(where, "file must be named " + id + ".json");
        }
        String kind = n.path("kind").asText("positive");
        if (!kind.equals("positive") && !kind.equals("negative")) {
            throw bad(where, "kind must be positive or negative");
        }
        JsonNode steps = n.get("steps");
        if (steps == null || !steps.isArray() || steps.isEmpty()) {
            throw bad(where, "steps must be a non-empty array");
        }
        List<JsonNode> list = new ArrayList<>();
        for (JsonNode s : steps) {
            String op = s.path("op").asText(null);
            if (op == null || !OPS.contains(op)) {
                throw bad(where, "step " + list.size() + ": unknown op '" + op + "'");
            }
            list.add(s);
        }
        JsonNode source = n.get("source");
        if (source == null || !source.has("type")) {
            throw bad(where, "source with a type (spec|recorded) is required");
        }
        ObjectNode options = object(n, "options", where);
        ObjectNode vars = object(n, "vars", where);
        return new Fixture(id, transport, Fixture.Role.valueOf(role.toUpperCase(Locale.ROOT)), kind,
                text(n, "title", where), n.path("description").asText(""), source, options, vars,
                n.path("timeoutMs").asInt(Fixture.DEFAULT_TIMEOUT_MS), list, deviations(n), where);
    }

    /** The object under {@code key}, an empty one when absent; anything else is a bad fixture. */
    private static ObjectNode object(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null) {
            return JSON.createObjectNode();
        }
        if (!(v instanceof ObjectNode o)) {
            throw bad(where, key + " must be an object");
        }
        return o;
    }

    private static List<JsonNode> deviations(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        n.path("peerDeviations").forEach(out::add);
        return out;
    }

    private static List<Fixture> finish(List<Fixture> out) {
        Map<String, String> seen = new HashMap<>();
        for (Fixture f : out) {
            String prev = seen.put(f.id(), f.file());
            if (prev != null) {
                throw new IllegalArgumentException("duplicate fixture id " + f.id() + " in " + prev + " and " + f.file());
            }
        }
        out.sort(Comparator.comparing(Fixture::id));
        return List.copyOf(out);
    }

    /** Selects fixtures by comma-separated globs over ids ({@code *} any run of characters, {@code ?} one). */
    public static List<Fixture> select(List<Fixture> all, String globs) {
        if (globs == null || globs.isBlank()) {
            return all;
        }
        Set<java.util.regex.Pattern> ps = new HashSet<>();
        for (String g : globs.split(",")) {
            StringBuilder re = new StringBuilder();
            for (char c : g.trim().toCharArray()) {
                re.append(c == '*' ? ".*" : c == '?' ? "." : java.util.regex.Pattern.quote(String.valueOf(c)));
            }
            ps.add(java.util.regex.Pattern.compile(re.toString()));
        }
        return all.stream().filter(f -> ps.stream().anyMatch(p -> p.matcher(f.id()).matches())).toList();
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw bad(where, "'" + field + "' must be a non-empty string");
        }
        return v.asText();
    }

    private static IllegalArgumentException bad(String where, String msg) {
        return new IllegalArgumentException(where + ": " + msg);
    }
}
