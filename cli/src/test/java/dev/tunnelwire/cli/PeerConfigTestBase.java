package dev.tunnelwire.cli;

import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.testkit.TestPki;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the config-file tests of the peers' transport objects share: a temporary directory with the test PKI's
 * certificate and key, and loading a one-service or one-node config whose listener or dialer is the object under
 * test (or the error it gives, without the file name).
 */
abstract class PeerConfigTestBase {

    static final String SB_UUID = "b831381d-6324-4d53-ad4f-8cda48b30811";

    @TempDir
    Path dir;
    final Schemes schemes = new Schemes(TransportRegistry.defaultRegistry());
    Path cert;
    Path key;

    @BeforeEach
    void pki() {
        Path certs = dir.resolve("certs");
        TestPki.get().writePem(certs);
        cert = certs.resolve("cert.pem");
        key = certs.resolve("key.pem");
    }


    Path write(String name, String text) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, text.replace("certs/", dir.resolve("certs") + "/"));
        return f;
    }

    /** A service whose listener is the given YAML/JSON flow mapping. */
    Specs.Service listener(String listener) throws Exception {
        Path f = write("server.yaml", "services:\n- name: s\n  addr: 127.0.0.1:20001\n"
                + "  handler: {type: vless, auth: {username: " + SB_UUID + "}}\n  listener: " + listener + "\n");
        Specs.Config c = ConfigFile.load(f.toString(), schemes);
        return c.services().get(0);
    }

    /** A node whose dialer is the given YAML/JSON flow mapping. */
    Specs.Node dialer(String dialer) throws Exception {
        Path f = write("client.yaml", "chains:\n- name: c\n  hops:\n  - name: h\n    nodes:\n    - name: n\n"
                + "      addr: 127.0.0.1:20001\n      connector: {type: vless, auth: {username: " + SB_UUID + "}}\n"
                + "      dialer: " + dialer + "\n");
        return ConfigFile.load(f.toString(), schemes).chains().get(0).hops().get(0);
    }

    String loadError(String name, String text) throws Exception {
        Path f = write(name, text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigFile.load(f.toString(), schemes));
        String prefix = f + ":";
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
        return e.getMessage().substring(prefix.length());
    }

    String listenerError(String listener) throws Exception {
        return loadError("server.yaml", "services:\n- name: s\n  addr: 127.0.0.1:20001\n  handler: {type: http}\n"
                + "  listener: " + listener + "\n");
    }

    String dialerError(String dialer) throws Exception {
        return loadError("client.yaml", "chains:\n- name: c\n  hops:\n  - name: h\n    nodes:\n    - name: n\n"
                + "      addr: 127.0.0.1:20001\n      connector: {type: http}\n      dialer: " + dialer + "\n");
    }
}
