package dev.tunnelwire.interop;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the recorded fixtures and the raw recordings live, how they are written (the layout of the hand-written
 * fixtures: two-space indent, one array element a line) and how a fresh normalisation is compared with a committed
 * file. Fields another tool adds to a committed fixture ({@code peerDeviations}) are kept when rewriting and not
 * compared.
 */
final class RecordedFixtureFiles {

    /** Fields of a committed fixture that are not produced by the normaliser. */
    static final List<String> FOREIGN = List.of("peerDeviations");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DefaultPrettyPrinter PRETTY = new DefaultPrettyPrinter()
            .withSeparators(Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"));

    private RecordedFixtureFiles() {
    }

    /** The interop-docker module directory. */
    static Path moduleDir() {
        return Path.of(System.getProperty("interop.basedir", ".")).toAbsolutePath().normalize();
    }

    static Path fixturesDir() {
        return moduleDir().resolveSibling("fixtures");
    }

    static Path recordingsDir() {
        return moduleDir().resolve("src/test/resources/recordings");
    }

    static Path fixtureFile(ObjectNode fixture) {
        return fixturesDir().resolve(fixture.get("transport").asText()).resolve(fixture.get("id").asText() + ".json");
    }

    static Path recordingFile(RecordedPair pair) {
        return recordingsDir().resolve(pair.key() + ".json");
    }

    static String pretty(JsonNode n) {
        try {
            return JSON.writer(PRETTY).writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode read(Path p) throws IOException {
        return JSON.readTree(Files.readString(p, StandardCharsets.UTF_8));
    }

    /** Writes a fixture, keeping the foreign fields of the committed file. */
    static void write(ObjectNode fixture) throws IOException {
        Path file = fixtureFile(fixture);
        ObjectNode out = fixture.deepCopy();
        if (Files.exists(file)) {
            JsonNode old = read(file);
            for (String k : FOREIGN) {
                if (old.has(k)) {
                    out.set(k, old.get(k));
                }
            }
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, pretty(out), StandardCharsets.UTF_8);
    }

    static void writeRecording(RecordedPair pair, Recording rec) throws IOException {
        Path file = recordingFile(pair);
        Files.createDirectories(file.getParent());
        Files.writeString(file, pretty(rec.toJson()), StandardCharsets.UTF_8);
    }

    /**
     * Compares a fresh fixture with the committed file: {@code null} when equal (foreign fields ignored), else a
     * line diff of the two pretty-printed documents.
     */
    static String diff(ObjectNode fresh) throws IOException {
        Path file = fixtureFile(fresh);
        if (!Files.exists(file)) {
            return "no committed file " + file + " (record with -Drecord.write=true)";
        }
        ObjectNode old = (ObjectNode) read(file);
        FOREIGN.forEach(old::remove);
        if (sameBehaviour(old, fresh)) {
            return null;
        }
        return file + " differs from what the peers produce now (- committed, + recorded now):\n"
                + lineDiff(pretty(old), pretty(fresh));
    }

    /** Whether the case's steps use connections other than {@code main} (PHT: several HTTP connections at once). */
    static boolean multiConnection(ObjectNode fixture) {
        for (JsonNode step : fixture.path("steps")) {
            if (!step.path("conn").asText("main").equals("main")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The fixture with its steps grouped per connection ({@code conn}; application steps form their own group), each
     * group in order. Two recordings of a multi-connection exchange are the same wire behaviour when these agree: the
     * interleaving of steps on different connections is timing (both orders are replayed against tunnelwire first).
     */
    static ObjectNode perConnection(ObjectNode fixture) {
        ObjectNode copy = fixture.deepCopy();
        ObjectNode groups = copy.objectNode();
        for (JsonNode step : fixture.path("steps")) {
            String op = step.path("op").asText();
            String group = step.has("conn") ? step.get("conn").asText()
                    : op.startsWith("app_") || op.startsWith("expect_app") || op.equals("expect_deliver")
                    || op.equals("expect_open") || op.equals("expect_tunnel") ? "app" : "main";
            (groups.has(group) ? (ArrayNode) groups.get(group)
                    : groups.putArray(group)).add(step);
        }
        copy.set("steps", groups);
        return copy;
    }

    /**
     * Whether a committed fixture and a fresh normalisation describe the same wire behaviour: equal once every
     * peer-varying value is reduced to its rule ({@link PeerVaryingValues#reduced}: the day's example must follow the
     * committed rule, and the rules must be the same), and for a multi-connection exchange equal per connection.
     */
    static boolean sameBehaviour(ObjectNode committed, ObjectNode fresh) {
        ObjectNode a = (ObjectNode) PeerVaryingValues.reduced(committed);
        ObjectNode b = (ObjectNode) PeerVaryingValues.reduced(fresh);
        // compared as printed: a number parsed from a file and the same number built by the normaliser may be
        // different node types
        return pretty(a).equals(pretty(b))
                || multiConnection(b) && pretty(perConnection(a)).equals(pretty(perConnection(b)));
    }

    /** A minimal line diff (longest common subsequence), with two lines of context around changes. */
    static String lineDiff(String a, String b) {
        String[] x = a.split("\n");
        String[] y = b.split("\n");
        int[][] lcs = new int[x.length + 1][y.length + 1];
        for (int i = x.length - 1; i >= 0; i--) {
            for (int j = y.length - 1; j >= 0; j--) {
                lcs[i][j] = x[i].equals(y[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < x.length || j < y.length) {
            if (i < x.length && j < y.length && x[i].equals(y[j])) {
                out.add("  " + x[i]);
                i++;
                j++;
            } else if (j < y.length && (i == x.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
                out.add("+ " + y[j++]);
            } else {
                out.add("- " + x[i++]);
            }
        }
        StringBuilder sb = new StringBuilder();
        int last = -10;
        for (int k = 0; k < out.size(); k++) {
            boolean near = false;
            for (int d = -2; d <= 2; d++) {
                int m = k + d;
                if (m >= 0 && m < out.size() && !out.get(m).startsWith("  ")) {
                    near = true;
                    break;
                }
            }
            if (near) {
                if (k > last + 1) {
                    sb.append("...\n");
                }
                sb.append(out.get(k)).append('\n');
                last = k;
            }
        }
        return sb.toString();
    }
}
