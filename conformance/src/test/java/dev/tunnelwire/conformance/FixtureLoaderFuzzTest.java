package dev.tunnelwire.conformance;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.CharConversionException;
import java.io.IOException;

/**
 * Fuzz target: {@link FixtureLoader#parse} over any JSON document, as {@link FixtureLoader#load} reads a fixture file.
 * The documented failures are Jackson's {@link JsonProcessingException} (or {@link CharConversionException}) for a
 * document that is not JSON and
 * {@link IllegalArgumentException} (naming the file) for one that is not a valid fixture; anything else is a finding.
 */
class FixtureLoaderFuzzTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "5m")
    void parse(byte[] input) {
        JsonNode n;
        try {
            n = JSON.readTree(input);
        } catch (JsonProcessingException | CharConversionException e) {
            // not JSON; CharConversionException: Jackson's encoding detection (UTF-32 with a char above U+10FFFF),
            // found by this target; load() reports both as an I/O error of the file
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
