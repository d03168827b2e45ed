package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a fresh recording is compared with the committed fixture: for a multi-connection exchange (PHT) the
 * interleaving of steps on different connections is timing, so the steps are compared per connection; the order on
 * one connection still counts.
 */
class RecordedFixtureFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode fixture(String steps) throws Exception {
        return (ObjectNode) JSON.readTree("{\"id\": \"pht.server.x\", \"steps\": " + steps + "}");
    }

    @Test
    void stepsOnDifferentConnectionsMayInterleaveEitherWay() throws Exception {
        ObjectNode a = fixture("[{\"op\": \"app_write\", \"data\": \"world\"}, {\"op\": \"expect\", \"conn\": \"main\","
                + " \"pht\": \"world\"}, {\"op\": \"expect\", \"conn\": \"c1\", \"http\": {\"status\": 200}}]");
        ObjectNode b = fixture("[{\"op\": \"expect\", \"conn\": \"c1\", \"http\": {\"status\": 200}}, {\"op\": "
                + "\"app_write\", \"data\": \"world\"}, {\"op\": \"expect\", \"conn\": \"main\", \"pht\": \"world\"}]");
        assertTrue(RecordedFixtureFiles.multiConnection(a));
        assertNotEquals(a, b);
        assertEquals(RecordedFixtureFiles.perConnection(a), RecordedFixtureFiles.perConnection(b));
    }

    @Test
    void theOrderOnOneConnectionCounts() throws Exception {
        ObjectNode a = fixture("[{\"op\": \"send\", \"conn\": \"c1\", \"bytes\": \"a\"}, {\"op\": \"send\", "
                + "\"conn\": \"c1\", \"bytes\": \"b\"}]");
        ObjectNode b = fixture("[{\"op\": \"send\", \"conn\": \"c1\", \"bytes\": \"b\"}, {\"op\": \"send\", "
                + "\"conn\": \"c1\", \"bytes\": \"a\"}]");
        assertNotEquals(RecordedFixtureFiles.perConnection(a), RecordedFixtureFiles.perConnection(b));
        assertFalse(RecordedFixtureFiles.multiConnection(fixture("[{\"op\": \"send\", \"bytes\": \"a\"}]")));
    }
}
