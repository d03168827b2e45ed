package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture files themselves: valid against the JSON Schema, and each documented in CASES.md. */
class FixtureFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path root() throws Exception {
        URL u = FixtureFilesTest.class.getClassLoader().getResource(FixtureLoader.CLASSPATH_ROOT + "/SCHEMA.md");
        assertTrue(u != null, "fixtures are not on the class path");
        if ("jar".equals(u.toURI().getScheme())) {
            FileSystem fs;
            try {
                fs = FileSystems.getFileSystem(u.toURI());
            } catch (FileSystemNotFoundException e) {
                fs = FileSystems.newFileSystem(u.toURI(), Map.of());
            }
            return fs.getPath("/" + FixtureLoader.CLASSPATH_ROOT);
        }
        return Path.of(u.toURI()).getParent();
    }

    @Test
    void everyFixtureIsValidAgainstTheSchema() throws Exception {
        Path root = root();
        JsonSchema schema;
        try (InputStream in = Files.newInputStream(root.resolve("fixture.schema.json"))) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
        List<String> problems = new ArrayList<>();
        int n = 0;
        try (Stream<Path> files = Files.walk(root, 2)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".json"))
                    .filter(p -> root.relativize(p).getNameCount() == 2)::iterator) {
                JsonNode doc = JSON.readTree(Files.readString(f, StandardCharsets.UTF_8));
                Set<ValidationMessage> errors = schema.validate(doc);
                n++;
                if (!errors.isEmpty()) {
                    problems.add(root.relativize(f) + ": " + errors.iterator().next().getMessage());
                }
            }
        }
        assertTrue(n > 0, "no fixture files");
        assertTrue(problems.isEmpty(), problems.size() + " invalid fixtures:\n" + String.join("\n", problems));
    }

    @Test
    void schemaRejectsBrokenFixtures() throws Exception {
        JsonSchema schema;
        try (InputStream in = Files.newInputStream(root().resolve("fixture.schema.json"))) {
            schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
        String ok = """
                {"id":"tcp.server.x","transport":"tcp","role":"server","title":"t","source":{"type":"spec"},
                 "steps":[%s]}""";
        assertTrue(schema.validate(JSON.readTree(ok.formatted("{\"op\":\"send\",\"bytes\":\"a\"}"))).isEmpty());
        for (String bad : List.of("{\"op\":\"frobnicate\"}", "{\"op\":\"send\"}",
                "{\"op\":\"send\",\"bytes\":{\"hex\":\"00\",\"text\":\"x\"}}",
                "{\"op\":\"expect\",\"ws\":{\"opcode\":\"bogus\"}}")) {
            assertTrue(!schema.validate(JSON.readTree(ok.formatted(bad))).isEmpty(), "schema accepted " + bad);
        }
    }

    @Test
    void casesMdNamesEveryFixture() throws Exception {
        String md = Files.readString(root().resolve("CASES.md"), StandardCharsets.UTF_8);
        List<String> missing = FixtureLoader.loadFromClassPath().stream().map(Fixture::id)
                .filter(id -> !md.contains("`" + id + "`")).toList();
        assertTrue(missing.isEmpty(), "CASES.md lacks " + missing + " (run python3 fixtures/tools/gen_cases_md.py)");
    }
}
