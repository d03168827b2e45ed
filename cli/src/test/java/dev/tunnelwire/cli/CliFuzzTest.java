package dev.tunnelwire.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.TransportRegistry;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzz targets of the command's readers, with the failures {@code Main} documents and reports as a usage error
 * (exit 2): {@link IllegalArgumentException} (with {@link ConfigTree.ConfigException}) and {@link IOException}.
 * Anything else escaping is a finding. What the readers return is printed as {@code --dry-run} prints it.
 *
 * <ul>
 *   <li>{@code commandLine}: the input as lines; a line starting with {@code F } is a {@code -F} node, any other a
 *       {@code -L} service; {@link GostUrl#parse} of each, then {@link CmdLine#build}.</li>
 *   <li>{@code configFile}: byte 0 bit 0 chooses JSON (else YAML); the rest is the document, read by
 *       {@link ConfigTree#read} and converted by {@link ConfigFile#convert}.</li>
 * </ul>
 */
class CliFuzzTest {

    private static final Schemes SCHEMES = new Schemes(TransportRegistry.defaultRegistry());

    @FuzzTest(maxDuration = "5m")
    void commandLine(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        List<String> services = new ArrayList<>();
        List<String> nodes = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("F ")) {
                nodes.add(line.substring(2));
            } else {
                services.add(line);
            }
            try {
                GostUrl.parse(line).toString();
            } catch (IllegalArgumentException e) {
                // documented
            }
        }
        try {
            Specs.Config c = new CmdLine(SCHEMES).build(services, nodes);
            c.chains().forEach(String::valueOf);
            c.services().forEach(String::valueOf);
        } catch (IllegalArgumentException e) {
            // documented
        }
    }

    @FuzzTest(maxDuration = "5m")
    void configFile(byte[] input) {
        boolean json = input.length > 0 && (input[0] & 1) != 0;
        String doc = input.length == 0 ? "" : new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        try {
            ConfigTree.Obj root = ConfigTree.read(new StringReader(doc), json, "fuzz." + (json ? "json" : "yaml"));
            Specs.Config c = ConfigFile.convert(root, SCHEMES);
            c.chains().forEach(String::valueOf);
            c.services().forEach(String::valueOf);
        } catch (IllegalArgumentException | IOException e) {
            // documented
        }
    }
}
