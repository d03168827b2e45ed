package dev.tunnelwire.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

class LeakCheckExtensionTest {

    @Test
    void buildRunsEveryTestUnderParanoidDetectionWithTheRecordingDetector() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel());
        assertTrue(RecordingLeakDetector.isInstalled());
    }

    @Test
    void aTestThatLeaksABufferFails() {
        Events events = EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(DeliberateLeak.class))
                .execute()
                .testEvents();
        events.assertStatistics(s -> s.started(1).failed(1).succeeded(0));
        Throwable cause = events.failed().stream().findFirst().orElseThrow()
                .getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow();
        assertTrue(cause.getMessage().contains("leaked reference-counted object"), cause.getMessage());
        assertTrue(cause.getMessage().contains("DeliberateLeak"), "the report names the leaking test");
    }

    @Test
    void aTestThatReleasesItsBuffersPasses() {
        EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .selectors(selectClass(NoLeak.class))
                .execute()
                .testEvents()
                .assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    }

    /** Run only through EngineTestKit above (surefire skips nested classes): leaks on purpose. */
    static class DeliberateLeak {
        @Test
        void leaks() {
            ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
            b.writeBytes("DeliberateLeak".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            b.touch("DeliberateLeak");
            b = null; // dropped without release()
        }
    }

    static class NoLeak {
        @Test
        void releases() {
            ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(64);
            b.writeInt(1);
            b.release();
        }
    }
}
