package dev.tunnelwire.conformance;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * Fuzz target: {@link FixtureLoader#parse} over any JSON document, as {@link FixtureLoader#load} reads a fixture file.
 * The documented failures are Jackson's {@link JsonProcessingException} for a document that is not JSON and
 * {@link IllegalArgumentException} (naming the file) for one that is not a valid fixture; anything else is a finding.
 */
class FixtureLoaderFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        JsonNode n;
        try {
            n = JSON.readTree(input);
        } catch (JsonProcessingException e) {
            return;
        } catch (IOException e) {
            throw new AssertionError("I/O error reading a byte array", e);
        }
        if (n == null) {
            return;
        }
        try {
            Fixture f = FixtureLoader.parse(n, null, null, "fuzz.json");
            f.toString();
        } catch (IllegalArgumentException e) {
            // documented: not a valid fixture
        }
    }
}
